/**
 * Gemini as a client format: generateContent bodies as @google/genai and Gemini CLI send them, decoded and
 * translated onto OpenAI and Anthropic providers; their answers (bodies and streams) encoded back as Google
 * returns them; countTokens helpers; embeddings both ways.
 */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../core/errors.ts'
import {
  codecFor, createStreamTranslator, geminiCountTokensRequest, geminiCountTokensResponse, providerFormatFor,
  setUpstreamModel, translateRequest, translateResponse, type SSEFrame, type StreamTranslator,
} from '../../core/formats/index.ts'
import type { SSEEvent } from '../../core/types.ts'
import {
  anthropicResponse, anthropicThinkingStream, anthropicToolStream, geminiCliRequest, geminiToolLoopRequest,
  genaiRequest, openaiResponse, openaiToolStream, PNG_B64,
} from './fixtures.ts'
import { frameText, INFO, parseSSE, sse } from './helpers.ts'

function rejects(fn: () => unknown, pattern: RegExp) {
  try {
    fn()
  } catch (error) {
    expect(GatewayError.is(error)).toBe(true)
    expect((error as GatewayError).status).toBe(400)
    expect((error as GatewayError).message).toMatch(pattern)
    return
  }
  throw new Error('expected a GatewayError')
}

const decode = (body: Record<string, unknown>) => codecFor('gemini').decodeRequest!(body)

/** The client's original body, as the pipeline hands it over: thoughts asked for, or not. */
const withThoughts = { ...INFO, request: { contents: [], generationConfig: { thinkingConfig: { includeThoughts: true } } } }
const withoutThoughts = { ...INFO, request: { contents: [] } }

describe('gemini client requests -> canonical', () => {
  it('decodes a Gemini CLI tool-loop turn: ids the CLI set pair call and response, the signature rides in the id', () => {
    const request = decode(geminiCliRequest())
    const id = 'read_file__call_a1__ts_skip_thought_signature_validator'
    expect(request.system).toEqual(['You are an interactive CLI agent.'])
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is in README.md?' }] },
      { role: 'assistant', content: [{ type: 'tool_call', id, name: 'read_file', arguments: '{"file_path":"README.md"}' }] },
      { role: 'user', content: [{ type: 'tool_result', toolCallId: id, name: 'read_file', content: [{ type: 'text', text: '# Sluice' }] }] },
    ])
    expect(request.tools).toEqual([{ name: 'read_file', description: 'Reads a file from the local filesystem.', parameters: geminiCliRequest().tools[0]!.functionDeclarations[0]!.parametersJsonSchema }])
    expect(request).toMatchObject({ temperature: 0, topP: 1, reasoning: { budgetTokens: 8192 }, stream: false })
    expect(request.model).toBeUndefined()
  })

  it('decodes an @google/genai request: system parts, inline image, OpenAPI-subset schema as JSON Schema, ANY with one name', () => {
    const request = decode(genaiRequest())
    expect(request.system).toEqual(['You are a weather bot.', 'Answer briefly.'])
    expect(request.messages).toEqual([{
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture, and the weather in Paris?' },
        { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG_B64 } },
      ],
    }])
    expect(request.tools).toEqual([{
      name: 'get_weather',
      description: 'Get the current weather in a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name' },
          unit: { type: ['string', 'null'], enum: ['celsius', 'fahrenheit'] },
          days: { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 7 },
        },
        required: ['city'],
      },
    }])
    expect(request.toolChoice).toEqual({ type: 'tool', name: 'get_weather' })
    expect(request).toMatchObject({ temperature: 0.4, topP: 0.9, topK: 40, maxTokens: 512, stop: ['END'], seed: 7, presencePenalty: 0.5, frequencyPenalty: 0.25 })
  })

  it('pairs id-less function responses with their calls by order, and thoughts stay in the model turn', () => {
    const request = decode(geminiToolLoopRequest())
    const [paris, tokyo] = ['call_gemini_0__ts_CiQB0e2Kb3-_sig', 'call_gemini_1']
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', text: 'Two cities: two calls.' },
        { type: 'tool_call', id: paris, name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'tool_call', id: tokyo, name: 'get_weather', arguments: '{"city":"Tokyo"}' },
      ],
    })
    expect(request.messages[2]!.content).toEqual([
      { type: 'tool_result', toolCallId: paris, name: 'get_weather', content: [{ type: 'text', text: '21C clear' }] },
      { type: 'tool_result', toolCallId: tokyo, name: 'get_weather', content: [{ type: 'text', text: 'service down' }], isError: true },
    ])
    expect(request.messages[3]).toEqual({ role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] })
    // The same history always gets the same ids (prompt caches upstream depend on it).
    expect(decode(geminiToolLoopRequest()).messages).toEqual(request.messages)
  })

  it('pairs by name when responses come in another order, and sends other response objects as JSON', () => {
    const request = decode({
      contents: [
        { role: 'user', parts: [{ text: 'time and weather' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: {} } }, { functionCall: { name: 'get_time', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_time', response: { hour: 9 } } }, { functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
      ],
    })
    expect(request.messages[2]!.content).toEqual([
      { type: 'tool_result', toolCallId: 'call_gemini_1', name: 'get_time', content: [{ type: 'text', text: '{"hour":9}' }] },
      { type: 'tool_result', toolCallId: 'call_gemini_0', name: 'get_weather', content: [{ type: 'text', text: '{"temp":21}' }] },
    ])
  })

  it("reads snake_case bodies as Google's curl samples write them", () => {
    const request = decode({
      system_instruction: { parts: [{ text: 'Be terse.' }] },
      contents: [{ parts: [{ text: 'Describe' }, { inline_data: { mime_type: 'image/png', data: PNG_B64 } }] }],
      tools: [{ function_declarations: [{ name: 'f', parameters_json_schema: { type: 'object' } }] }],
      tool_config: { function_calling_config: { mode: 'NONE' } },
      generation_config: { max_output_tokens: 64, stop_sequences: ['x'], response_mime_type: 'application/json' },
    })
    expect(request.system).toEqual(['Be terse.'])
    expect(request.messages[0]!.content[1]).toEqual({ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG_B64 } })
    expect(request.tools).toEqual([{ name: 'f', parameters: { type: 'object' } }])
    expect(request).toMatchObject({ toolChoice: { type: 'none' }, maxTokens: 64, stop: ['x'], responseFormat: { type: 'json_object' } })
  })

  it('maps thinking levels and budgets, JSON output and response schemas', () => {
    const config = (generationConfig: Record<string, unknown>) => decode({ contents: [{ role: 'user', parts: [{ text: 'x' }] }], generationConfig })
    expect(config({ thinkingConfig: { thinkingLevel: 'HIGH' } }).reasoning).toEqual({ effort: 'high' })
    expect(config({ thinkingConfig: { thinkingBudget: -1 } }).reasoning).toEqual({ effort: 'medium' })
    expect(config({ thinkingConfig: { thinkingBudget: 0 } }).reasoning).toEqual({ budgetTokens: 0 })
    expect(config({ responseMimeType: 'application/json' }).responseFormat).toEqual({ type: 'json_object' })
    expect(config({ responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { n: { type: 'NUMBER' } } } }).responseFormat)
      .toEqual({ type: 'json_schema', schema: { type: 'object', properties: { n: { type: 'number' } } } })
    const jsonSchema = { type: 'object', properties: { n: { type: 'number' } }, additionalProperties: false }
    expect(config({ responseMimeType: 'application/json', responseJsonSchema: jsonSchema }).responseFormat).toEqual({ type: 'json_schema', schema: jsonSchema })
    expect(decode({ contents: [], toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['a', 'b'] } } }).toolChoice).toEqual({ type: 'required' })
    expect(decode({ contents: [], toolConfig: { functionCallingConfig: { mode: 'AUTO' } } }).toolChoice).toEqual({ type: 'auto' })
  })

  it('refuses what no other provider can carry with a 400 naming it', () => {
    const user = (parts: unknown[]) => ({ contents: [{ role: 'user', parts }] })
    for (const tool of ['googleSearch', 'codeExecution', 'urlContext', 'retrieval']) {
      rejects(() => decode({ ...user([{ text: 'x' }]), tools: [{ [tool]: {} }] }), new RegExp(`tools\\[0\\]\\.${tool}`))
    }
    rejects(() => decode({ ...user([{ text: 'x' }]), generationConfig: { candidateCount: 2 } }), /candidateCount/)
    rejects(() => decode({ ...user([{ text: 'x' }]), generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } }), /responseModalities/)
    rejects(() => decode({ ...user([{ text: 'x' }]), cachedContent: 'cachedContents/abc' }), /cachedContent/)
    rejects(() => decode(user([{ inlineData: { mimeType: 'audio/mp3', data: 'AAAA' } }])), /audio\/mp3/)
    rejects(() => decode(user([{ fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }])), /only be read by Gemini/)
    rejects(() => decode(user([{ executableCode: { language: 'PYTHON', code: 'print(1)' } }])), /executableCode/)
    rejects(() => decode(user([{ functionResponse: { name: 'f', response: {} } }])), /'f' answers no earlier functionCall/)
    rejects(() => decode({ contents: [{ role: 'system', parts: [{ text: 'x' }] }] }), /role/)
    rejects(() => decode({}), /contents must be an array/)
  })

  it('countTokens: the canonical request of a { contents } or { generateContentRequest } body, and the answer body', () => {
    expect(geminiCountTokensRequest({ contents: [{ role: 'user', parts: [{ text: 'count me' }] }] }).messages)
      .toEqual([{ role: 'user', content: [{ type: 'text', text: 'count me' }] }])
    const whole = geminiCountTokensRequest({ generateContentRequest: { model: 'models/gemini-2.5-flash', ...geminiCliRequest() } })
    expect(whole.system).toEqual(['You are an interactive CLI agent.'])
    expect(whole.tools).toHaveLength(1)
    expect(whole.messages).toHaveLength(3)
    expect(geminiCountTokensResponse(42)).toEqual({ totalTokens: 42 })
  })
})

describe('gemini client requests -> providers', () => {
  it('genai request -> OpenAI chat', () => {
    const out = translateRequest(genaiRequest(), 'gemini', 'openai-chat') as any
    expect(out.messages).toEqual([
      { role: 'system', content: 'You are a weather bot.' },
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture, and the weather in Paris?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }] },
    ])
    expect(out.tools[0].function.parameters.properties.unit).toEqual({ type: ['string', 'null'], enum: ['celsius', 'fahrenheit'] })
    expect(out.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
    expect(out).toMatchObject({ temperature: 0.4, top_p: 0.9, max_tokens: 512, stop: ['END'], seed: 7, presence_penalty: 0.5, frequency_penalty: 0.25, stream: false })
    expect(out).not.toHaveProperty('top_k')
  })

  it('id-less tool loop -> OpenAI chat: tool messages answer the calls they belong to', () => {
    const out = translateRequest(geminiToolLoopRequest(), 'gemini', 'openai-chat') as any
    const [, assistant, paris, tokyo, user] = out.messages
    expect(assistant.tool_calls.map((c: any) => [c.function.name, c.function.arguments])).toEqual([['get_weather', '{"city":"Paris"}'], ['get_weather', '{"city":"Tokyo"}']])
    expect([paris.tool_call_id, tokyo.tool_call_id]).toEqual(assistant.tool_calls.map((c: any) => c.id))
    expect([paris.content, tokyo.content]).toEqual(['21C clear', 'service down'])
    expect(user).toEqual({ role: 'user', content: 'And tomorrow?' })
  })

  it('Gemini CLI turn -> OpenAI chat: ids over OpenAI\'s 40-character limit are shortened, call and result alike', () => {
    const out = translateRequest(geminiCliRequest(), 'gemini', 'openai-chat') as any
    const [, , assistant, tool] = out.messages
    const id = assistant.tool_calls[0].id
    expect(id).toMatch(/^call_[A-Za-z0-9_-]{32}$/)
    expect(tool).toEqual({ role: 'tool', tool_call_id: id, content: '# Sluice' })
    expect(out.reasoning_effort).toBe('medium')
  })

  it('Gemini CLI turn -> Anthropic: tool_use ids Anthropic accepts, results in the next user turn, thinking off in a loop with no signed thinking', () => {
    const out = translateRequest(geminiCliRequest(), 'gemini', 'anthropic-messages') as any
    expect(out.system).toEqual([{ type: 'text', text: 'You are an interactive CLI agent.' }])
    const [, assistant, user] = out.messages
    const toolUse = assistant.content[0]
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'read_file', input: { file_path: 'README.md' } })
    expect(toolUse.id).toMatch(/^[a-zA-Z0-9_-]+$/)
    expect(user.content).toEqual([{ type: 'tool_result', tool_use_id: toolUse.id, content: '# Sluice' }])
    // The CLI strips thought parts from its history: Anthropic would refuse a budget for an open tool loop
    // whose assistant turn lacks its signed thinking block, so thinking is off for this request.
    expect(out.thinking).toEqual({ type: 'disabled' })
    expect(out.tools[0].input_schema).toEqual({ type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] })
  })

  it('an error response -> Anthropic is_error', () => {
    const out = translateRequest(geminiToolLoopRequest(), 'gemini', 'anthropic-messages') as any
    expect(out.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'call_gemini_0__ts_CiQB0e2Kb3-_sig', content: '21C clear' },
      { type: 'tool_result', tool_use_id: 'call_gemini_1', content: 'service down', is_error: true },
      { type: 'text', text: 'And tomorrow?' },
    ])
  })
})

describe('responses -> gemini client', () => {
  it('OpenAI chat completion -> GenerateContentResponse', () => {
    expect(translateResponse(openaiResponse(), 'openai-chat', 'gemini', INFO)).toEqual({
      candidates: [{
        content: {
          role: 'model',
          parts: [
            { text: 'Checking both cities.' },
            { functionCall: { id: 'call_1', name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { id: 'call_2', name: 'get_weather', args: { city: 'Tokyo' } } },
          ],
        },
        finishReason: 'STOP',
        index: 0,
      }],
      usageMetadata: { promptTokenCount: 1117, candidatesTokenCount: 36, totalTokenCount: 1163, cachedContentTokenCount: 1024, thoughtsTokenCount: 10 },
      modelVersion: 'client-model',
      responseId: 'req123',
    })
  })

  it('Anthropic message -> GenerateContentResponse: whole prompt counted, cache reads as cached content', () => {
    const out = translateResponse(anthropicResponse(), 'anthropic-messages', 'gemini', INFO) as any
    expect(out.candidates[0].content.parts).toEqual([
      { text: 'Let me check both.' },
      { functionCall: { id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', args: { city: 'Paris' } } },
      { functionCall: { id: 'toolu_01B', name: 'get_weather', args: { city: 'Tokyo' } } },
    ])
    expect(out.candidates[0].finishReason).toBe('STOP')
    expect(out.usageMetadata).toEqual({ promptTokenCount: 2070, candidatesTokenCount: 80, totalTokenCount: 2150, cachedContentTokenCount: 2000 })
  })

  it('thoughts only when includeThoughts asked; finish reasons; a signature that rode in an id goes back on the part', () => {
    const thinking = { ...anthropicResponse(), content: [{ type: 'thinking', thinking: 'Hmm.', signature: 'EqQBsig' }, { type: 'text', text: 'Hi' }], stop_reason: 'max_tokens' }
    const shown = translateResponse(thinking, 'anthropic-messages', 'gemini', withThoughts) as any
    expect(shown.candidates[0].content.parts).toEqual([{ text: 'Hmm.', thought: true, thoughtSignature: 'EqQBsig' }, { text: 'Hi' }])
    expect(shown.candidates[0].finishReason).toBe('MAX_TOKENS')
    const hidden = translateResponse(thinking, 'anthropic-messages', 'gemini', withoutThoughts) as any
    expect(hidden.candidates[0].content.parts).toEqual([{ text: 'Hi' }])
    const refusal = translateResponse({ ...anthropicResponse(), stop_reason: 'refusal' }, 'anthropic-messages', 'gemini', INFO) as any
    expect(refusal.candidates[0].finishReason).toBe('SAFETY')

    const signed = openaiResponse()
    signed.choices[0]!.message.tool_calls = [{ id: 'call_x__ts_CiQB0e2Kb3-_sig', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]
    const out = translateResponse(signed, 'openai-chat', 'gemini', INFO) as any
    expect(out.candidates[0].content.parts[1]).toEqual({ functionCall: { id: 'call_x', name: 'f', args: { a: 1 } }, thoughtSignature: 'CiQB0e2Kb3+/sig=' })
  })

  it("reads back through the gateway's own Gemini decoder unchanged", () => {
    const gemini = translateResponse(openaiResponse(), 'openai-chat', 'gemini', INFO) as any
    const back = translateResponse(gemini, 'gemini', 'openai-chat', INFO) as any
    expect(back.choices[0].message.content).toBe('Checking both cities.')
    expect(back.choices[0].message.tool_calls.map((c: any) => [c.id, c.function.arguments])).toEqual([['call_1', '{"city":"Paris"}'], ['call_2', '{"city":"Tokyo"}']])
    expect(back.choices[0].finish_reason).toBe('tool_calls')
    expect(back.usage).toMatchObject({ prompt_tokens: 1117, completion_tokens: 46, prompt_tokens_details: { cached_tokens: 1024 } })
  })
})

describe('streams -> gemini client', () => {
  function run(translator: StreamTranslator, events: SSEEvent[]): SSEFrame[] {
    return [...events.flatMap((event) => translator.push(event)), ...translator.end()]
  }

  /** Reads frames the way a Gemini client does: every frame a whole GenerateContentResponse, no event names. */
  function readGemini(frames: SSEFrame[]) {
    expect(frames.every((frame) => frame.event === undefined)).toBe(true)
    const chunks = frames.map((frame) => JSON.parse(frame.data))
    const parts = chunks.flatMap((chunk) => chunk.candidates[0].content.parts)
    const last = chunks.at(-1)
    expect(chunks.slice(0, -1).every((chunk) => !chunk.candidates[0].finishReason && !chunk.usageMetadata)).toBe(true)
    expect(chunks.every((chunk) => chunk.modelVersion === 'client-model' && chunk.responseId === 'req123')).toBe(true)
    return {
      text: parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join(''),
      thoughts: parts.filter((p) => p.thought),
      calls: parts.filter((p) => p.functionCall).map((p) => p.functionCall),
      finishReason: last.candidates[0].finishReason,
      usage: last.usageMetadata,
    }
  }

  it('OpenAI chat stream: text as it comes, each tool call whole with parsed args, finish and usage last', () => {
    const read = readGemini(run(createStreamTranslator('openai-chat', 'gemini', INFO), openaiToolStream()))
    expect(read.text).toBe('Checking both.')
    expect(read.calls).toEqual([{ id: 'call_P', name: 'get_weather', args: { city: 'Paris' } }, { id: 'call_T', name: 'get_weather', args: { city: 'Tokyo' } }])
    expect(read.finishReason).toBe('STOP')
    expect(read.usage).toEqual({ promptTokenCount: 80, candidatesTokenCount: 40, totalTokenCount: 120, cachedContentTokenCount: 64 })
  })

  it('Anthropic stream: the same, with the whole prompt and cache reads counted', () => {
    const read = readGemini(run(createStreamTranslator('anthropic-messages', 'gemini', INFO), anthropicToolStream()))
    expect(read.text).toBe('Checking both.')
    expect(read.calls).toEqual([{ id: 'toolu_P', name: 'get_weather', args: { city: 'Paris' } }, { id: 'toolu_T', name: 'get_weather', args: { city: 'Tokyo' } }])
    expect(read.finishReason).toBe('STOP')
    expect(read.usage).toEqual({ promptTokenCount: 130, candidatesTokenCount: 89, totalTokenCount: 219, cachedContentTokenCount: 100 })
  })

  it('a tool call goes out when the next one starts, the last at the finish, the closing frame at the end', () => {
    const translator = createStreamTranslator('openai-chat', 'gemini', INFO)
    const emitted = openaiToolStream().map((event) => translator.push(event).map((frame) => JSON.parse(frame.data)))
    const callAt = (city: string) => emitted.findIndex((chunks) => chunks.some((c) => c.candidates[0].content.parts.some((p: any) => p.functionCall?.args.city === city)))
    expect(callAt('Paris')).toBe(6) // call_T's first chunk
    expect(callAt('Tokyo')).toBe(9) // the finish_reason chunk
    expect(emitted[11]!.at(-1).candidates[0].finishReason).toBe('STOP') // [DONE]
    expect(translator.end()).toEqual([])
  })

  it('arguments split anywhere still arrive as one parsed object', () => {
    const args = '{"city": "Paris", "unit": "celsius"}'
    for (let cut = 1; cut < args.length; cut++) {
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) => sse({ id: 'c', choices: [{ index: 0, delta, finish_reason: finish }] })
      const frames = run(createStreamTranslator('openai-chat', 'gemini', INFO), [
        chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args.slice(0, cut) } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(cut) } }] }),
        chunk({}, 'tool_calls'),
        sse('[DONE]'),
      ])
      expect(readGemini(frames).calls).toEqual([{ id: 'call_1', name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } }])
    }
  })

  it('thought parts only for a client that asked for them, the signature on a part of its own', () => {
    const shown = readGemini(run(createStreamTranslator('anthropic-messages', 'gemini', withThoughts), anthropicThinkingStream()))
    expect(shown.thoughts).toEqual([
      { text: 'Short answer', thought: true }, { text: ' wanted.', thought: true }, { text: '', thought: true, thoughtSignature: 'EqQBsig' },
    ])
    expect(shown.text).toBe('Hi')
    expect(shown.finishReason).toBe('MAX_TOKENS')
    expect(shown.usage).toEqual({ promptTokenCount: 12, candidatesTokenCount: 30, totalTokenCount: 42 })
    expect(readGemini(run(createStreamTranslator('anthropic-messages', 'gemini', withoutThoughts), anthropicThinkingStream())).thoughts).toEqual([])
  })

  it('end() without the upstream finish still sends the held call and a closing frame', () => {
    const translator = createStreamTranslator('openai-chat', 'gemini', INFO)
    const frames = run(translator, openaiToolStream().slice(0, 9))
    const read = readGemini(frames)
    expect(read.calls.map((c) => c.args.city)).toEqual(['Paris', 'Tokyo'])
    expect(read.finishReason).toBe('STOP')
  })

  it('an error ends the stream with one Gemini error frame', () => {
    const translator = createStreamTranslator('openai-chat', 'gemini', INFO)
    openaiToolStream().slice(0, 3).forEach((event) => translator.push(event))
    expect(translator.error({ status: 502, message: 'upstream stream ended early', type: 'api_error' }))
      .toEqual([{ data: JSON.stringify({ error: { code: 502, message: 'upstream stream ended early', status: 'INTERNAL' } }) }])
    expect(translator.end()).toEqual([])
    const upstreamError = createStreamTranslator('anthropic-messages', 'gemini', INFO)
    const frames = upstreamError.push(sse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'error'))
    expect(JSON.parse(frames[0]!.data)).toEqual({ error: { code: 529, message: 'Overloaded', status: 'UNAVAILABLE' } })
  })

  it("the SSE text reads back through the gateway's own Gemini stream decoder", () => {
    const frames = run(createStreamTranslator('anthropic-messages', 'gemini', INFO), anthropicToolStream())
    const text = frameText(frames)
    expect(text).not.toContain('event:')
    const back = run(createStreamTranslator('gemini', 'openai-chat', INFO), parseSSE(text))
    const chunks = back.filter((f) => f.data !== '[DONE]').map((f) => JSON.parse(f.data))
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    const names = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).filter((t: any) => t.function?.name).map((t: any) => t.id)
    expect(content).toBe('Checking both.')
    expect(names).toEqual(['toolu_P', 'toolu_T'])
  })
})

describe('embeddings both ways', () => {
  const batch = () => ({
    requests: [
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] }, taskType: 'RETRIEVAL_QUERY', outputDimensionality: 4 },
      { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] }, taskType: 'RETRIEVAL_QUERY', outputDimensionality: 4 },
    ],
  })

  it('batchEmbedContents -> OpenAI embeddings request', () => {
    const out = setUpstreamModel(translateRequest(batch(), 'gemini-embeddings', 'openai-embeddings'), 'openai-embeddings', 'text-embedding-3-small')
    expect(out).toEqual({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float', dimensions: 4 })
  })

  it('embedContent -> OpenAI embeddings request, and -> batchEmbedContents for a Gemini provider', () => {
    const single = { content: { parts: [{ text: 'hello' }] }, output_dimensionality: 8 }
    expect(translateRequest(single, 'gemini-embed-content', 'openai-embeddings')).toMatchObject({ input: ['hello'], dimensions: 8 })
    const wrapped = setUpstreamModel(translateRequest({ content: { parts: [{ text: 'hello' }] }, outputDimensionality: 8 }, 'gemini-embed-content', 'gemini-embeddings'), 'gemini-embeddings', 'text-embedding-004')
    expect(wrapped).toEqual({ requests: [{ content: { parts: [{ text: 'hello' }] }, outputDimensionality: 8, model: 'models/text-embedding-004' }] })
  })

  it('refuses what an OpenAI embeddings request cannot say', () => {
    const mixed = batch()
    mixed.requests[1]!.outputDimensionality = 8
    rejects(() => translateRequest(mixed, 'gemini-embeddings', 'openai-embeddings'), /outputDimensionality must be the same/)
    rejects(() => translateRequest({ requests: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data: PNG_B64 } }] } }] }, 'gemini-embeddings', 'openai-embeddings'), /only text/)
    rejects(() => translateRequest({ requests: [] }, 'gemini-embeddings', 'openai-embeddings'), /non-empty/)
  })

  it('OpenAI embeddings response -> batchEmbedContents and embedContent bodies, floats or base64', () => {
    const floats = { object: 'list', data: [{ object: 'embedding', index: 1, embedding: [0.25, 2] }, { object: 'embedding', index: 0, embedding: [0.5, -1] }], model: 'x', usage: { prompt_tokens: 2, total_tokens: 2 } }
    expect(translateResponse(floats, 'openai-embeddings', 'gemini-embeddings', INFO)).toEqual({ embeddings: [{ values: [0.5, -1] }, { values: [0.25, 2] }] })
    const b64 = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64')
    const encoded = { ...floats, data: [{ object: 'embedding', index: 0, embedding: b64([0.5, -1, 3]) }] }
    expect(translateResponse(encoded, 'openai-embeddings', 'gemini-embeddings', INFO)).toEqual({ embeddings: [{ values: [0.5, -1, 3] }] })
    expect(translateResponse(encoded, 'openai-embeddings', 'gemini-embed-content', INFO)).toEqual({ embedding: { values: [0.5, -1, 3] } })
    expect(translateResponse({ embeddings: [{ values: [1, 2] }] }, 'gemini-embeddings', 'gemini-embed-content', INFO)).toEqual({ embedding: { values: [1, 2] } })
  })

  it('embedContent is an embeddings format of its own that every embeddings provider can serve', () => {
    expect(codecFor('gemini-embed-content').kind).toBe('embeddings')
    expect(providerFormatFor('gemini-embed-content', ['gemini', 'gemini-embeddings'])).toBe('gemini-embeddings')
    expect(providerFormatFor('gemini-embed-content', ['openai-chat', 'openai-embeddings'])).toBe('openai-embeddings')
    expect(providerFormatFor('gemini-embeddings', ['openai-chat', 'openai-embeddings'])).toBe('openai-embeddings')
  })
})
