/**
 * Recorded-shape fixtures: bodies and stream events as the providers document them (ids shortened).
 */
import { anthropicEvent, sse } from './helpers.ts'

export const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'], additionalProperties: false },
    strict: true,
  },
}
export const TIME_TOOL = {
  type: 'function',
  function: { name: 'get_time', description: 'Current local time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}

/** An OpenAI chat request exercising every carried field. */
export const openaiRequest = () => ({
  model: 'anthropic/claude-sonnet-4-5',
  messages: [
    { role: 'system', content: 'You are a weather bot.' },
    { role: 'developer', content: [{ type: 'text', text: 'Answer briefly.' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture, and the weather in Paris and Tokyo?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}`, detail: 'low' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_def', type: 'function', function: { name: 'get_time', arguments: '{"city":"Tokyo"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_abc', content: '{"temp":21,"sky":"clear"}' },
    { role: 'tool', tool_call_id: 'call_def', content: '09:30' },
    { role: 'user', content: 'Thanks! Summarise as JSON.' },
  ],
  tools: [WEATHER_TOOL, TIME_TOOL],
  tool_choice: 'required',
  parallel_tool_calls: false,
  response_format: { type: 'json_schema', json_schema: { name: 'summary', schema: { type: 'object', properties: { text: { type: 'string' } } }, strict: true } },
  stop: ['END', 'STOP'],
  temperature: 1.4,
  top_p: 0.9,
  max_tokens: 300,
  seed: 7,
  user: 'user-42',
  stream: true,
  stream_options: { include_usage: true },
  logprobs: false,
})

/** An Anthropic Messages request exercising every carried field. */
export const anthropicRequest = () => ({
  model: 'openai/gpt-4o',
  max_tokens: 1024,
  system: [
    { type: 'text', text: 'You are a weather bot.', cache_control: { type: 'ephemeral' } },
    { type: 'text', text: 'Answer briefly.' },
  ],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        { type: 'text', text: 'Weather in Paris and Tokyo?' },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Two cities: two calls.', signature: 'EqQBsig' },
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: { city: 'Tokyo' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01A', content: '21C clear' },
        { type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: 'service down' }], is_error: true },
        { type: 'text', text: 'And tomorrow?' },
      ],
    },
  ],
  tools: [{ name: 'get_weather', description: 'Get the weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
  tool_choice: { type: 'any', disable_parallel_tool_use: true },
  stop_sequences: ['\n\nHuman:'],
  temperature: 0.5,
  top_k: 40,
  metadata: { user_id: 'user-42' },
  stream: false,
})

export const openaiResponse = () => ({
  id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
  object: 'chat.completion',
  created: 1741570283,
  model: 'gpt-4o-2024-08-06',
  choices: [{
    index: 0,
    message: {
      role: 'assistant',
      content: 'Checking both cities.',
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' } },
      ],
      refusal: null,
      annotations: [],
    },
    logprobs: null,
    finish_reason: 'tool_calls',
  }],
  usage: {
    prompt_tokens: 1117, completion_tokens: 46, total_tokens: 1163,
    prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 10, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
  service_tier: 'default',
  system_fingerprint: 'fp_fc9f1d7035',
})

export const anthropicResponse = () => ({
  id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'text', text: 'Let me check both.' },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: { city: 'Tokyo' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 50, cache_creation_input_tokens: 20, cache_read_input_tokens: 2000, output_tokens: 80, service_tier: 'standard' },
})

export const geminiResponse = () => ({
  candidates: [{
    content: {
      parts: [
        { text: 'Planning the calls.', thought: true },
        { text: 'Checking both.' },
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb3+/sig==' },
        { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
      ],
      role: 'model',
    },
    finishReason: 'STOP',
    index: 0,
  }],
  usageMetadata: {
    promptTokenCount: 120, candidatesTokenCount: 30, totalTokenCount: 190, cachedContentTokenCount: 100, thoughtsTokenCount: 40,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 120 }],
  },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'mAitaLmkHPPlz7IPvtfUqQ4',
})

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-C1', object: 'chat.completion.chunk', created: 1741570283, model: 'gpt-4o-2024-08-06', system_fingerprint: 'fp_x',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null,
})

/** An OpenAI stream with text, then two parallel tool calls whose arguments arrive in pieces. */
export const openaiToolStream = () => [
  sse(chunk({ role: 'assistant', content: '', refusal: null })),
  sse(chunk({ content: 'Checking' })),
  sse(chunk({ content: ' both.' })),
  sse(chunk({ tool_calls: [{ index: 0, id: 'call_P', type: 'function', function: { name: 'get_weather', arguments: '' } }] })),
  sse(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] })),
  sse(chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty": "Paris"}' } }] })),
  sse(chunk({ tool_calls: [{ index: 1, id: 'call_T', type: 'function', function: { name: 'get_weather', arguments: '' } }] })),
  sse(chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city": ' } }] })),
  sse(chunk({ tool_calls: [{ index: 1, function: { arguments: '"Tokyo"}' } }] })),
  sse(chunk({}, 'tool_calls')),
  sse({ ...chunk({}), choices: [], usage: { prompt_tokens: 80, completion_tokens: 40, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 0 } } }),
  sse('[DONE]'),
]

/** An Anthropic stream: text, then two tool_use blocks with input_json_delta pieces. */
export const anthropicToolStream = () => [
  anthropicEvent({ type: 'message_start', message: { id: 'msg_S', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 1 } } }),
  anthropicEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  anthropicEvent({ type: 'ping' }),
  anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking' } }),
  anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' both.' } }),
  anthropicEvent({ type: 'content_block_stop', index: 0 }),
  anthropicEvent({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_P', name: 'get_weather', input: {} } }),
  anthropicEvent({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
  anthropicEvent({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } }),
  anthropicEvent({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: 'ris"}' } }),
  anthropicEvent({ type: 'content_block_stop', index: 1 }),
  anthropicEvent({ type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_T', name: 'get_weather', input: {} } }),
  anthropicEvent({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
  anthropicEvent({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: ' "Tokyo"}' } }),
  anthropicEvent({ type: 'content_block_stop', index: 2 }),
  anthropicEvent({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } }),
  anthropicEvent({ type: 'message_stop' }),
]

/** A Gemini SSE stream: text chunks, then both function calls in one chunk with the finish reason. */
export const geminiToolStream = () => [
  sse({ candidates: [{ content: { parts: [{ text: 'Checking' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 70, candidatesTokenCount: 2, totalTokenCount: 72 }, modelVersion: 'gemini-2.5-flash', responseId: 'resp1' }),
  sse({ candidates: [{ content: { parts: [{ text: ' both.' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 70, candidatesTokenCount: 4, totalTokenCount: 74 }, modelVersion: 'gemini-2.5-flash', responseId: 'resp1' }),
  sse({
    candidates: [{
      content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } }], role: 'model' },
      finishReason: 'STOP', index: 0,
    }],
    usageMetadata: { promptTokenCount: 70, candidatesTokenCount: 20, totalTokenCount: 110, cachedContentTokenCount: 50, thoughtsTokenCount: 20 },
    modelVersion: 'gemini-2.5-flash', responseId: 'resp1',
  }),
]

/**
 * What @google/genai sends for `models.generateContent` with a config: system instruction parts, an inline
 * image, a declaration built with `Type.OBJECT` (Gemini's OpenAPI subset: uppercase types, int64 counts as
 * strings, `nullable`, `propertyOrdering`), ANY mode naming one function, and sampling settings.
 */
export const genaiRequest = () => ({
  contents: [{
    role: 'user',
    parts: [{ text: 'What is in this picture, and the weather in Paris?' }, { inlineData: { mimeType: 'image/png', data: PNG_B64 } }],
  }],
  systemInstruction: { parts: [{ text: 'You are a weather bot.' }, { text: 'Answer briefly.' }] },
  tools: [{
    functionDeclarations: [{
      name: 'get_weather',
      description: 'Get the current weather in a city',
      parameters: {
        type: 'OBJECT',
        properties: {
          city: { type: 'STRING', description: 'City name' },
          unit: { type: 'STRING', format: 'enum', enum: ['celsius', 'fahrenheit'], nullable: true },
          days: { type: 'ARRAY', items: { type: 'INTEGER' }, minItems: '1', maxItems: '7' },
        },
        required: ['city'],
        propertyOrdering: ['city', 'unit', 'days'],
      },
    }],
  }],
  toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
  generationConfig: {
    temperature: 0.4, topP: 0.9, topK: 40, maxOutputTokens: 512, stopSequences: ['END'], seed: 7, presencePenalty: 0.5, frequencyPenalty: 0.25,
  },
})

/**
 * A Gemini CLI turn inside a tool loop: the system prompt as a user-role Content, declarations with
 * `parametersJsonSchema`, call ids the CLI set itself (`<name>__<id>`) on both the call and its response,
 * the CLI's synthetic thought signature on the first call of the turn, thoughts asked for.
 */
export const geminiCliRequest = () => ({
  contents: [
    { role: 'user', parts: [{ text: 'What is in README.md?' }] },
    {
      role: 'model',
      parts: [{ functionCall: { id: 'read_file__call_a1', name: 'read_file', args: { file_path: 'README.md' } }, thoughtSignature: 'skip_thought_signature_validator' }],
    },
    { role: 'user', parts: [{ functionResponse: { id: 'read_file__call_a1', name: 'read_file', response: { output: '# Sluice' } } }] },
  ],
  systemInstruction: { role: 'user', parts: [{ text: 'You are an interactive CLI agent.' }] },
  tools: [{
    functionDeclarations: [{
      name: 'read_file',
      description: 'Reads a file from the local filesystem.',
      parametersJsonSchema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] },
    }],
  }],
  generationConfig: { temperature: 0, topP: 1, thinkingConfig: { includeThoughts: true, thinkingBudget: 8192 } },
})

/** A parallel tool loop with no ids at all: Gemini pairs function responses with calls by name and order. */
export const geminiToolLoopRequest = () => ({
  contents: [
    { role: 'user', parts: [{ text: 'Weather in Paris and Tokyo?' }] },
    {
      role: 'model',
      parts: [
        { text: 'Two cities: two calls.', thought: true },
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'CiQB0e2Kb3+/sig==' },
        { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
      ],
    },
    {
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { result: '21C clear' } } },
        { functionResponse: { name: 'get_weather', response: { error: 'service down' } } },
      ],
    },
    { role: 'user', parts: [{ text: 'And tomorrow?' }] },
  ],
  tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }],
})

/** An Anthropic stream with extended thinking (thinking deltas and a signature) before the text. */
export const anthropicThinkingStream = () => [
  anthropicEvent({ type: 'message_start', message: { id: 'msg_T', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }),
  anthropicEvent({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
  anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Short answer' } }),
  anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: ' wanted.' } }),
  anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBsig' } }),
  anthropicEvent({ type: 'content_block_stop', index: 0 }),
  anthropicEvent({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
  anthropicEvent({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hi' } }),
  anthropicEvent({ type: 'content_block_stop', index: 1 }),
  anthropicEvent({ type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 30 } }),
  anthropicEvent({ type: 'message_stop' }),
]
