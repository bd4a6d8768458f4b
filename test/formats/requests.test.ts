import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../core/errors.ts'
import { setUpstreamModel, translateRequest } from '../../core/formats/index.ts'
import { anthropicRequest, openaiRequest, PNG_B64 } from './fixtures.ts'

function rejects(fn: () => unknown, status: number, pattern: RegExp) {
  try {
    fn()
  } catch (error) {
    expect(GatewayError.is(error)).toBe(true)
    expect((error as GatewayError).status).toBe(status)
    expect((error as GatewayError).message).toMatch(pattern)
    return
  }
  throw new Error('expected a GatewayError')
}

describe('openai-chat -> anthropic-messages', () => {
  const out = translateRequest(openaiRequest(), 'openai-chat', 'anthropic-messages') as any

  it('keeps several system prompts apart and appends the JSON instruction', () => {
    expect(out.system.slice(0, 2)).toEqual([{ type: 'text', text: 'You are a weather bot.' }, { type: 'text', text: 'Answer briefly.' }])
    expect(out.system[2].text).toMatch(/JSON/)
    expect(out.system[2].text).toContain('"text"')
  })

  it('carries multi-turn messages, images, tool calls and merged tool results', () => {
    expect(out.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user'])
    expect(out.messages[0].content).toEqual([
      { type: 'text', text: 'What is in this picture, and the weather in Paris and Tokyo?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ])
    expect(out.messages[1].content).toEqual([
      { type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_def', name: 'get_time', input: { city: 'Tokyo' } },
    ])
    // Both results and the following user text share one user turn, results first.
    expect(out.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'call_abc', content: '{"temp":21,"sky":"clear"}' },
      { type: 'tool_result', tool_use_id: 'call_def', content: '09:30' },
      { type: 'text', text: 'Thanks! Summarise as JSON.' },
    ])
  })

  it('maps tools, tool_choice and parallel_tool_calls', () => {
    expect(out.tools).toEqual([
      { name: 'get_weather', description: 'Get the current weather in a city', input_schema: openaiRequest().tools[0]!.function.parameters },
      { name: 'get_time', description: 'Current local time in a city', input_schema: openaiRequest().tools[1]!.function.parameters },
    ])
    expect(out.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true })
  })

  it('maps sampling, limits and stream; clamps temperature to 1; drops what Anthropic lacks', () => {
    expect(out).toMatchObject({ max_tokens: 300, stop_sequences: ['END', 'STOP'], temperature: 1, metadata: { user_id: 'user-42' }, stream: true })
    expect(out.top_p).toBeUndefined() // newer Claude models refuse temperature and top_p together
    for (const dropped of ['seed', 'response_format', 'stream_options', 'logprobs', 'parallel_tool_calls', 'user']) expect(out).not.toHaveProperty(dropped)
  })

  it('defaults max_tokens to 4096 and omits empty optional fields', () => {
    const minimal = translateRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, 'openai-chat', 'anthropic-messages') as any
    expect(minimal).toEqual({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], max_tokens: 4096, stream: false })
  })

  it('turns reasoning_effort into a thinking budget below max_tokens, without sampling changes', () => {
    const body = translateRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'medium', temperature: 0.2, max_completion_tokens: 20000 }, 'openai-chat', 'anthropic-messages') as any
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 })
    expect(body.max_tokens).toBe(20000)
    expect(body.temperature).toBeUndefined()
  })

  it('refuses what cannot be carried with a clear 400', () => {
    rejects(() => translateRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 2 }, 'openai-chat', 'anthropic-messages'), 400, /n > 1/)
    rejects(() => translateRequest({ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'openai-chat', 'anthropic-messages'), 400, /input_audio/)
    rejects(() => translateRequest({ model: 'm', messages: 'hi' } as any, 'openai-chat', 'anthropic-messages'), 400, /messages must be an array/)
    rejects(() => translateRequest({ model: 'm', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{not json' } }] }] }, 'openai-chat', 'anthropic-messages'), 400, /not valid JSON/)
  })
})

describe('anthropic-messages -> openai-chat', () => {
  const out = translateRequest(anthropicRequest(), 'anthropic-messages', 'openai-chat') as any

  it('carries system blocks as system messages and splits tool results into tool messages', () => {
    expect(out.messages.map((m: any) => m.role)).toEqual(['system', 'system', 'user', 'assistant', 'tool', 'tool', 'user'])
    expect(out.messages[0]).toEqual({ role: 'system', content: 'You are a weather bot.' })
    expect(out.messages[2].content).toEqual([
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
      { type: 'text', text: 'Weather in Paris and Tokyo?' },
    ])
    expect(out.messages[3]).toEqual({
      role: 'assistant',
      content: 'Checking both.',
      tool_calls: [
        { type: 'function', id: 'toolu_01A', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { type: 'function', id: 'toolu_01B', function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' } },
      ],
    })
    expect(out.messages[4]).toEqual({ role: 'tool', tool_call_id: 'toolu_01A', content: '21C clear' })
    expect(out.messages[5]).toEqual({ role: 'tool', tool_call_id: 'toolu_01B', content: 'service down' })
    expect(out.messages[6]).toEqual({ role: 'user', content: 'And tomorrow?' })
  })

  it('maps tools, tool_choice any + disable_parallel_tool_use, and sampling', () => {
    expect(out.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Get the weather', parameters: anthropicRequest().tools[0]!.input_schema } }])
    expect(out.tool_choice).toBe('required')
    expect(out.parallel_tool_calls).toBe(false)
    expect(out).toMatchObject({ max_tokens: 1024, stop: ['\n\nHuman:'], temperature: 0.5, user: 'user-42', stream: false })
    expect(out).not.toHaveProperty('top_k')
  })

  it('turns a thinking budget into reasoning_effort with max_completion_tokens', () => {
    const body = translateRequest({ model: 'm', max_tokens: 20000, thinking: { type: 'enabled', budget_tokens: 16000 }, messages: [{ role: 'user', content: 'hi' }] }, 'anthropic-messages', 'openai-chat') as any
    expect(body).toMatchObject({ reasoning_effort: 'high', max_completion_tokens: 20000 })
    expect(body).not.toHaveProperty('max_tokens')
  })

  it('refuses server tools and unknown blocks with a 400', () => {
    rejects(() => translateRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'anthropic-messages', 'openai-chat'), 400, /client tools/)
    rejects(() => translateRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x', media_type: 'text/plain' } }] }] }, 'anthropic-messages', 'openai-chat'), 400, /document/)
  })
})

describe('-> gemini', () => {
  it('translates an OpenAI request into generateContent', () => {
    const out = translateRequest(openaiRequest(), 'openai-chat', 'gemini') as any
    expect(out).not.toHaveProperty('model')
    expect(out).not.toHaveProperty('stream')
    expect(out.systemInstruction).toEqual({ parts: [{ text: 'You are a weather bot.' }, { text: 'Answer briefly.' }] })
    expect(out.contents.map((c: any) => c.role)).toEqual(['user', 'model', 'user'])
    expect(out.contents[0].parts).toEqual([
      { text: 'What is in this picture, and the weather in Paris and Tokyo?' },
      { inlineData: { mimeType: 'image/png', data: PNG_B64 } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
    ])
    expect(out.contents[1].parts).toEqual([
      { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
      { functionCall: { name: 'get_time', args: { city: 'Tokyo' } } },
    ])
    // Function responses name their function (looked up from the call id) and come in one turn.
    expect(out.contents[2].parts).toEqual([
      { functionResponse: { name: 'get_weather', response: { temp: 21, sky: 'clear' } } },
      { functionResponse: { name: 'get_time', response: { result: '09:30' } } },
      { text: 'Thanks! Summarise as JSON.' },
    ])
    expect(out.tools).toEqual([{ functionDeclarations: [
      { name: 'get_weather', description: 'Get the current weather in a city', parametersJsonSchema: openaiRequest().tools[0]!.function.parameters },
      { name: 'get_time', description: 'Current local time in a city', parametersJsonSchema: openaiRequest().tools[1]!.function.parameters },
    ] }])
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } })
    expect(out.generationConfig).toEqual({
      temperature: 1.4, topP: 0.9, maxOutputTokens: 300, stopSequences: ['END', 'STOP'], seed: 7,
      responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { text: { type: 'string' } } },
    })
  })

  it('translates an Anthropic request: error results, named tool choice, thinking with thoughts shown', () => {
    const body = { ...anthropicRequest(), tool_choice: { type: 'tool', name: 'get_weather' }, thinking: { type: 'enabled', budget_tokens: 2048 } }
    const out = translateRequest(body, 'anthropic-messages', 'gemini') as any
    expect(out.contents[1].parts).toEqual([
      { text: 'Checking both.' },
      { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
      { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
    ])
    expect(out.contents[2].parts).toEqual([
      { functionResponse: { name: 'get_weather', response: { result: '21C clear' } } },
      { functionResponse: { name: 'get_weather', response: { error: 'service down' } } },
      { text: 'And tomorrow?' },
    ])
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } })
    expect(out.generationConfig).toMatchObject({ topK: 40, temperature: 0.5, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } })
  })

  it('hands a Gemini thought signature back from the tool-call id it rode in', () => {
    const body = {
      model: 'm',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_x_0__ts_CiQB0e2Kb3-_sig', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_x_0__ts_CiQB0e2Kb3-_sig', content: 'ok' },
      ],
    }
    const out = translateRequest(body, 'openai-chat', 'gemini') as any
    expect(out.contents[1].parts[0]).toEqual({ functionCall: { name: 'f', args: {} }, thoughtSignature: 'CiQB0e2Kb3+/sig=' })
  })

  it('refuses a tool result that answers no call (Gemini needs the function name)', () => {
    rejects(() => translateRequest({ model: 'm', messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }, 'openai-chat', 'gemini'), 400, /needs the function name/)
  })
})

describe('embeddings', () => {
  it('turns an OpenAI embeddings request into batchEmbedContents and sets the upstream model', () => {
    const out = translateRequest({ model: 'gemini/text-embedding-004', input: ['a', 'b'], dimensions: 4, encoding_format: 'float' }, 'openai-embeddings', 'gemini-embeddings')
    setUpstreamModel(out, 'gemini-embeddings', 'text-embedding-004')
    expect(out).toEqual({ requests: [
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] }, outputDimensionality: 4 },
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] }, outputDimensionality: 4 },
    ] })
  })

  it('refuses token-array input', () => {
    rejects(() => translateRequest({ model: 'm', input: [[1, 2, 3]] }, 'openai-embeddings', 'gemini-embeddings'), 400, /token arrays/)
  })
})

describe('translateRequest', () => {
  it('returns the same object for the same format and refuses pairs it cannot translate', () => {
    const body = openaiRequest()
    expect(translateRequest(body, 'openai-chat', 'openai-chat')).toBe(body)
    rejects(() => translateRequest(body, 'openai-chat', 'gemini-embeddings'), 400, /cannot translate/)
    rejects(() => translateRequest({ model: 'm', input: 'x' }, 'openai-embeddings', 'openai-chat'), 400, /cannot translate/)
  })

  it('setUpstreamModel writes model where each format carries it', () => {
    expect(setUpstreamModel({ model: 'alias' }, 'anthropic-messages', 'claude-x')).toEqual({ model: 'claude-x' })
    expect(setUpstreamModel({ contents: [] }, 'gemini', 'gemini-2.5-flash')).toEqual({ contents: [] })
  })
})
