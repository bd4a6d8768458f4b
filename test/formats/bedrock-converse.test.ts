/**
 * The bedrock-converse codec: OpenAI chat and Anthropic Messages requests to Converse bodies, Converse responses
 * and ConverseStream events (as the bedrock() provider re-frames them) back to both, errors and limits; and the
 * provider's event-stream framer over frames cut at every byte.
 */
import { describe, expect, it } from 'vitest'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import { GatewayError } from '../../core/errors.ts'
import { createStreamTranslator, translateRequest, translateResponse, upstreamErrorInfo, usageFromBody, streamUsageReader } from '../../core/formats/index.ts'
import { clampBodyOutputTokens, dropReasoningControls, requestedOutputTokens } from '../../core/formats/limits.ts'
import { sseFromEventStream } from '../../plugins/providers/bedrock/event-stream.ts'
import { conversePath } from '../../plugins/providers/bedrock/index.ts'
import { PNG_B64, TIME_TOOL, WEATHER_TOOL } from './fixtures.ts'
import { INFO, freshUsage, parseSSE, payloads, sse } from './helpers.ts'

const CLAUDE = 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0'

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

describe('openai-chat -> bedrock-converse requests', () => {
  const request = {
    model: CLAUDE,
    messages: [
      { role: 'system', content: 'You are a weather bot.' },
      { role: 'developer', content: 'Answer briefly.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Tokyo?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_def', type: 'function', function: { name: 'get_time', arguments: '{"city":"Tokyo"}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"temp":21}' },
      { role: 'tool', tool_call_id: 'call_def', content: '09:30' },
      { role: 'user', content: 'Thanks!' },
    ],
    tools: [WEATHER_TOOL, TIME_TOOL],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    stop: ['END'],
    temperature: 1.4,
    top_p: 0.9,
    max_tokens: 300,
    response_format: { type: 'json_object' },
  }
  const out = translateRequest(request, 'openai-chat', 'bedrock-converse') as any

  it('system prompts as system blocks (JSON instruction last); no model or stream in the body', () => {
    expect(out.system.slice(0, 2)).toEqual([{ text: 'You are a weather bot.' }, { text: 'Answer briefly.' }])
    expect(out.system[2].text).toMatch(/JSON object/)
    expect(out).not.toHaveProperty('model')
    expect(out).not.toHaveProperty('stream')
  })

  it('turns alternate; images as bytes, tool calls as toolUse, results as toolResult leading the user turn', () => {
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris and Tokyo?' }, { image: { format: 'png', source: { bytes: PNG_B64 } } }] },
      { role: 'assistant', content: [
        { toolUse: { toolUseId: 'call_abc', name: 'get_weather', input: { city: 'Paris' } } },
        { toolUse: { toolUseId: 'call_def', name: 'get_time', input: { city: 'Tokyo' } } },
      ] },
      { role: 'user', content: [
        { toolResult: { toolUseId: 'call_abc', content: [{ text: '{"temp":21}' }], status: 'success' } },
        { toolResult: { toolUseId: 'call_def', content: [{ text: '09:30' }], status: 'success' } },
        { text: 'Thanks!' },
      ] },
    ])
  })

  it('inferenceConfig (temperature clamped to 0..1; with Claude, top_p yields to it) and toolConfig with the named tool', () => {
    expect(out.inferenceConfig).toEqual({ maxTokens: 300, temperature: 1, stopSequences: ['END'] })
    const nova = translateRequest({ ...request, model: 'bedrock/us.amazon.nova-pro-v1:0' }, 'openai-chat', 'bedrock-converse') as any
    expect(nova.inferenceConfig).toEqual({ maxTokens: 300, temperature: 1, topP: 0.9, stopSequences: ['END'] })
    expect(out.toolConfig.toolChoice).toEqual({ tool: { name: 'get_weather' } })
    expect(out.toolConfig.tools[0]).toEqual({ toolSpec: { name: 'get_weather', description: WEATHER_TOOL.function.description, inputSchema: { json: WEATHER_TOOL.function.parameters } } })
  })

  it('tool_choice none: tools left out, unless the history holds tool blocks (Bedrock then needs toolConfig)', () => {
    const fresh = translateRequest({ model: CLAUDE, messages: [{ role: 'user', content: 'hi' }], tools: [WEATHER_TOOL], tool_choice: 'none' }, 'openai-chat', 'bedrock-converse') as any
    expect(fresh).not.toHaveProperty('toolConfig')
    const withHistory = translateRequest({ ...request, tool_choice: 'none' }, 'openai-chat', 'bedrock-converse') as any
    expect(withHistory.toolConfig.tools).toHaveLength(2)
    expect(withHistory.toolConfig).not.toHaveProperty('toolChoice')
  })

  it('a web image URL is a 400 naming what Bedrock takes; an s3:// URL becomes an s3Location', () => {
    rejects(() => translateRequest({ model: CLAUDE, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }, 'openai-chat', 'bedrock-converse'), 400, /base64 data or s3:\/\//)
    const s3 = translateRequest({ model: CLAUDE, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 's3://bucket/cat.jpg' } }] }] }, 'openai-chat', 'bedrock-converse') as any
    expect(s3.messages[0].content[0]).toEqual({ image: { format: 'jpeg', source: { s3Location: { uri: 's3://bucket/cat.jpg' } } } })
  })
})

describe('anthropic-messages -> bedrock-converse requests', () => {
  it('thinking for a Claude model goes in additionalModelRequestFields, sampling left out', () => {
    const out = translateRequest({
      model: CLAUDE, max_tokens: 8000, temperature: 0.3, thinking: { type: 'enabled', budget_tokens: 2048 },
      system: 'Be brief.', messages: [{ role: 'user', content: 'Think.' }],
    }, 'anthropic-messages', 'bedrock-converse') as any
    expect(out.additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } })
    expect(out.inferenceConfig).toEqual({ maxTokens: 8000 })
    expect(out.system).toEqual([{ text: 'Be brief.' }])
  })

  it('top_k rides in additionalModelRequestFields; a signed thinking block goes back as reasoningContent', () => {
    const out = translateRequest({
      model: CLAUDE, max_tokens: 100, top_k: 5,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig1' }, { type: 'text', text: 'Hello' }] },
        { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/webp', data: PNG_B64 } }, { type: 'text', text: 'and this?' }] },
      ],
    }, 'anthropic-messages', 'bedrock-converse') as any
    expect(out.additionalModelRequestFields).toEqual({ top_k: 5 })
    expect(out.messages[1].content).toEqual([{ reasoningContent: { reasoningText: { text: 'hmm', signature: 'sig1' } } }, { text: 'Hello' }])
    expect(out.messages[2].content[0]).toEqual({ image: { format: 'webp', source: { bytes: PNG_B64 } } })
  })
})

describe('bedrock-converse responses', () => {
  const body = {
    output: { message: { role: 'assistant', content: [
      { reasoningContent: { reasoningText: { text: 'Let me look.', signature: 'sig-xyz' } } },
      { text: 'Checking.' },
      { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } },
    ] } },
    stopReason: 'tool_use',
    usage: { inputTokens: 100, outputTokens: 20, totalTokens: 150, cacheReadInputTokens: 25, cacheWriteInputTokens: 5 },
    metrics: { latencyMs: 300 },
  }

  it('to an OpenAI chat completion: text, tool_calls, finish reason and usage (cache in the prompt)', () => {
    const out = translateResponse(body, 'bedrock-converse', 'openai-chat', INFO) as any
    expect(out.choices[0].message.content).toBe('Checking.')
    expect(out.choices[0].message.tool_calls).toEqual([{ id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }])
    expect(out.choices[0].finish_reason).toBe('tool_calls')
    expect(out.usage).toMatchObject({ prompt_tokens: 130, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 25 } })
  })

  it('to an Anthropic message: thinking with its signature, tool_use, and the cache counts apart', () => {
    const out = translateResponse(body, 'bedrock-converse', 'anthropic-messages', INFO) as any
    expect(out.content).toEqual([
      { type: 'thinking', thinking: 'Let me look.', signature: 'sig-xyz' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } },
    ])
    expect(out.stop_reason).toBe('tool_use')
    expect(out.usage).toEqual({ input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 25, cache_creation_input_tokens: 5 })
  })

  it('stop reasons map onto each format\'s own', () => {
    const reason = (stopReason: string) => (translateResponse({ ...body, output: { message: { role: 'assistant', content: [{ text: 'x' }] } }, stopReason }, 'bedrock-converse', 'openai-chat', INFO) as any).choices[0].finish_reason
    expect(reason('end_turn')).toBe('stop')
    expect(reason('stop_sequence')).toBe('stop')
    expect(reason('max_tokens')).toBe('length')
    expect(reason('model_context_window_exceeded')).toBe('length')
    expect(reason('guardrail_intervened')).toBe('content_filter')
    expect(reason('content_filtered')).toBe('content_filter')
  })

  it('usage read from a body for the record', () => {
    const usage = freshUsage()
    expect(usageFromBody('bedrock-converse', body, usage)).toBe(true)
    expect(usage).toMatchObject({ inputTokens: 130, outputTokens: 20, cachedTokens: 25, cacheWriteTokens: 5, estimated: false })
  })

  it('errors: the exception name decides the type', () => {
    expect(upstreamErrorInfo('bedrock-converse', 400, { message: 'bad', __type: 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' })).toMatchObject({ type: 'invalid_request_error', code: 'ValidationException', message: 'bad' })
    expect(upstreamErrorInfo('bedrock-converse', 429, { message: 'slow down', __type: 'ThrottlingException' })).toMatchObject({ type: 'rate_limit_error' })
    expect(upstreamErrorInfo('bedrock-converse', 424, { Message: 'model failed', __type: 'ModelErrorException' })).toMatchObject({ type: 'api_error', message: 'model failed' })
    expect(upstreamErrorInfo('bedrock-converse', 503, { message: 'busy' })).toMatchObject({ type: 'api_error', code: null })
  })
})

describe('bedrock-converse streams', () => {
  const events = [
    sse({ role: 'assistant', p: 'abc' }, 'messageStart'),
    sse({ contentBlockIndex: 0, delta: { reasoningContent: { text: 'Hmm.' } } }, 'contentBlockDelta'),
    sse({ contentBlockIndex: 0, delta: { reasoningContent: { signature: 'sig-1' } } }, 'contentBlockDelta'),
    sse({ contentBlockIndex: 0 }, 'contentBlockStop'),
    sse({ contentBlockIndex: 1, delta: { text: 'Let me ' } }, 'contentBlockDelta'),
    sse({ contentBlockIndex: 1, delta: { text: 'check.' } }, 'contentBlockDelta'),
    sse({ contentBlockIndex: 1 }, 'contentBlockStop'),
    sse({ contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tooluse_a', name: 'get_weather' } } }, 'contentBlockStart'),
    sse({ contentBlockIndex: 2, delta: { toolUse: { input: '{"city":' } } }, 'contentBlockDelta'),
    sse({ contentBlockIndex: 2, delta: { toolUse: { input: '"Paris"}' } } }, 'contentBlockDelta'),
    sse({ contentBlockIndex: 2 }, 'contentBlockStop'),
    sse({ contentBlockIndex: 3, start: { toolUse: { toolUseId: 'tooluse_b', name: 'get_time' } } }, 'contentBlockStart'),
    sse({ contentBlockIndex: 3, delta: { toolUse: { input: '{"city":"Tokyo"}' } } }, 'contentBlockDelta'),
    sse({ contentBlockIndex: 3 }, 'contentBlockStop'),
    sse({ stopReason: 'tool_use' }, 'messageStop'),
    sse({ usage: { inputTokens: 40, outputTokens: 12, totalTokens: 60, cacheReadInputTokens: 8 }, metrics: { latencyMs: 5 } }, 'metadata'),
  ]

  it('to OpenAI chat chunks: text, two tool calls with their arguments, finish and usage', () => {
    const translator = createStreamTranslator('bedrock-converse', 'openai-chat', INFO)
    const frames = [...events.flatMap((e) => translator.push(e)), ...translator.end()]
    expect(translator.upstreamDone).toBe(true)
    const chunks = payloads(frames)
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Let me check.')
    const calls: Record<number, { name?: string; args: string }> = {}
    for (const chunk of chunks) for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
      calls[call.index] ??= { args: '' }
      if (call.function?.name) calls[call.index]!.name = call.function.name
      calls[call.index]!.args += call.function?.arguments ?? ''
    }
    expect(calls).toEqual({ 0: { name: 'get_weather', args: '{"city":"Paris"}' }, 1: { name: 'get_time', args: '{"city":"Tokyo"}' } })
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls')
    expect(chunks.find((c) => c.usage)?.usage).toMatchObject({ prompt_tokens: 48, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 8 } })
    expect(frames.at(-1)!.data).toBe('[DONE]')
  })

  it('to Anthropic events: thinking with its signature, text, tool_use blocks, message_delta usage', () => {
    const translator = createStreamTranslator('bedrock-converse', 'anthropic-messages', INFO)
    const frames = [...events.flatMap((e) => translator.push(e)), ...translator.end()]
    const names = frames.map((f) => f.event)
    expect(names[0]).toBe('message_start')
    expect(names.at(-1)).toBe('message_stop')
    const starts = payloads(frames).filter((p) => p.type === 'content_block_start').map((p) => p.content_block.type)
    expect(starts).toEqual(['thinking', 'text', 'tool_use', 'tool_use'])
    expect(payloads(frames).some((p) => p.delta?.type === 'signature_delta' && p.delta.signature === 'sig-1')).toBe(true)
    const delta = payloads(frames).find((p) => p.type === 'message_delta')
    expect(delta).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { input_tokens: 40, output_tokens: 12, cache_read_input_tokens: 8 } })
  })

  it('usage is read from the metadata event as it passes', () => {
    const read = streamUsageReader('bedrock-converse')
    const usage = freshUsage()
    for (const event of events) read(event, usage)
    expect(usage).toMatchObject({ inputTokens: 48, outputTokens: 12, cachedTokens: 8, estimated: false })
  })

  it('an exception event ends the client stream with an error in its shape', () => {
    const translator = createStreamTranslator('bedrock-converse', 'anthropic-messages', INFO)
    const frames = [events[0]!, events[4]!, sse({ message: 'Too many tokens, please wait.' }, 'throttlingException')].flatMap((e) => translator.push(e))
    expect(frames.at(-1)).toMatchObject({ event: 'error' })
    expect(JSON.parse(frames.at(-1)!.data)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'Too many tokens, please wait.' } })
  })
})

describe('bedrock-converse limits', () => {
  it('reads, lowers and keeps thinking under the output cap; drops reasoning controls', () => {
    const body: any = { messages: [], inferenceConfig: { maxTokens: 64000 }, additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 40000 } } }
    expect(requestedOutputTokens(body, 'bedrock-converse')).toBe(64000)
    expect(clampBodyOutputTokens(body, 'bedrock-converse', 32000)).toBe(true)
    expect(body.inferenceConfig.maxTokens).toBe(32000)
    expect(body.additionalModelRequestFields.thinking.budget_tokens).toBe(31999)
    expect(dropReasoningControls(body, 'bedrock-converse')).toBe(true)
    expect(body.additionalModelRequestFields).toEqual({})
  })
})

describe('the bedrock() event-stream framer', () => {
  const codec = new EventStreamCodec(toUtf8, fromUtf8)
  const frame = (headers: Record<string, string>, payload: unknown) => codec.encode({
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, { type: 'string' as const, value: v }])),
    body: fromUtf8(JSON.stringify(payload)),
  })
  const bytes = Buffer.concat([
    frame({ ':message-type': 'event', ':event-type': 'messageStart', ':content-type': 'application/json' }, { role: 'assistant' }),
    frame({ ':message-type': 'event', ':event-type': 'contentBlockDelta', ':content-type': 'application/json' }, { contentBlockIndex: 0, delta: { text: 'héllo\nworld' } }),
    frame({ ':message-type': 'exception', ':exception-type': 'throttlingException', ':content-type': 'application/json' }, { message: 'slow down' }),
    frame({ ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'stream broke' }, {}),
  ])

  async function collect(chunks: Uint8Array[]): Promise<string> {
    let text = ''
    for await (const piece of sseFromEventStream((async function* () { yield* chunks })())) text += Buffer.from(piece).toString('utf8')
    return text
  }

  it('frames cut at every byte come out as the same SSE events as whole ones', async () => {
    const whole = await collect([bytes])
    const byByte = await collect([...bytes].map((b) => Uint8Array.of(b)))
    expect(byByte).toBe(whole)
    const events = parseSSE(whole)
    expect(events.map((e) => e.event)).toEqual(['messageStart', 'contentBlockDelta', 'throttlingException', 'internalServerException'])
    expect(events[1]!.json).toEqual({ contentBlockIndex: 0, delta: { text: 'héllo\nworld' } })
    expect(events[3]!.json).toEqual({ message: 'stream broke', __type: 'InternalFailure' })
  })

  it('a corrupt frame (bad CRC) is a 502, not a crash', async () => {
    const broken = Buffer.from(bytes)
    broken[20] = broken[20]! ^ 0xff
    const error = await collect([broken]).catch((e) => e)
    expect(GatewayError.is(error)).toBe(true)
    expect(error.status).toBe(502)
  })

  it('model ids and ARNs are one encoded path segment', () => {
    expect(conversePath('us.anthropic.claude-sonnet-4-5-20250929-v1:0', false)).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse')
    expect(conversePath('arn:aws:bedrock:us-east-1:1:application-inference-profile/abc', true)).toBe('/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fabc/converse-stream')
  })
})

describe('the other direction: Converse bodies to OpenAI and Anthropic, canonical answers as Converse', () => {
  const converse = {
    system: [{ text: 'Be brief.' }],
    messages: [
      { role: 'user', content: [{ text: 'Weather?' }, { image: { format: 'jpeg', source: { bytes: PNG_B64 } } }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tu_1', name: 'get_weather', input: { city: 'Paris' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tu_1', content: [{ json: { temp: 21 } }], status: 'success' } }, { text: 'And?' }] },
    ],
    inferenceConfig: { maxTokens: 200, temperature: 0.2, stopSequences: ['END'] },
    toolConfig: { tools: [{ toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }], toolChoice: { any: {} } },
  }

  it('a Converse request becomes an OpenAI chat request, and comes back to the same Converse body', () => {
    const chat = translateRequest(converse, 'bedrock-converse', 'openai-chat') as any
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG_B64}` } }] },
      { role: 'assistant', content: null, tool_calls: [{ type: 'function', id: 'tu_1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'tu_1', content: '{"temp":21}' },
      { role: 'user', content: 'And?' },
    ])
    expect(chat).toMatchObject({ max_tokens: 200, temperature: 0.2, stop: ['END'], tool_choice: 'required' })
    const back = translateRequest({ ...chat, model: CLAUDE }, 'openai-chat', 'bedrock-converse') as any
    expect(back.messages[2].content[0]).toEqual({ toolResult: { toolUseId: 'tu_1', content: [{ text: '{"temp":21}' }], status: 'success' } })
    expect(back.toolConfig).toEqual(converse.toolConfig)
    expect(back.system).toEqual(converse.system)
    expect(back.inferenceConfig).toEqual(converse.inferenceConfig)
  })

  it('a Converse request becomes an Anthropic request', () => {
    const messages = translateRequest(converse, 'bedrock-converse', 'anthropic-messages') as any
    expect(messages.system).toEqual([{ type: 'text', text: 'Be brief.' }])
    expect(messages.messages[2].content[0]).toEqual({ type: 'tool_result', tool_use_id: 'tu_1', content: '{"temp":21}' })
    expect(messages.tool_choice).toEqual({ type: 'any' })
  })

  it('an Anthropic message becomes a Converse response with its stop reason and usage', () => {
    const anthropicMessage = {
      id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', stop_reason: 'tool_use', stop_sequence: null,
      content: [{ type: 'thinking', thinking: 'hm', signature: 's' }, { type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'tu_9', name: 'get_weather', input: { city: 'Rome' } }],
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 4, cache_creation_input_tokens: 2 },
    }
    expect(translateResponse(anthropicMessage, 'anthropic-messages', 'bedrock-converse', INFO)).toEqual({
      output: { message: { role: 'assistant', content: [
        { reasoningContent: { reasoningText: { text: 'hm', signature: 's' } } },
        { text: 'Checking.' },
        { toolUse: { toolUseId: 'tu_9', name: 'get_weather', input: { city: 'Rome' } } },
      ] } },
      stopReason: 'tool_use',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 21, cacheReadInputTokens: 4, cacheWriteInputTokens: 2 },
      metrics: { latencyMs: 0 },
    })
  })

  it('an OpenAI stream becomes ConverseStream events that decode back to the same answer', () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage?: unknown) => sse({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })
    const upstream = [
      chunk({ role: 'assistant', content: 'Hi ' }),
      chunk({ content: 'there.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
      chunk({}, 'tool_calls'),
      sse({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 } }),
      sse('[DONE]'),
    ]
    const toBedrock = createStreamTranslator('openai-chat', 'bedrock-converse', INFO)
    const frames = [...upstream.flatMap((e) => toBedrock.push(e)), ...toBedrock.end()]
    expect(frames.map((f) => f.event)).toEqual([
      'messageStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop',
      'contentBlockStart', 'contentBlockDelta', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata',
    ])
    const toAnthropic = createStreamTranslator('bedrock-converse', 'anthropic-messages', INFO)
    const out = [...frames.map((f) => sse(f.data, f.event)).flatMap((e) => toAnthropic.push(e)), ...toAnthropic.end()]
    const text = payloads(out).filter((p) => p.delta?.type === 'text_delta').map((p) => p.delta.text).join('')
    const args = payloads(out).filter((p) => p.delta?.type === 'input_json_delta').map((p) => p.delta.partial_json).join('')
    expect(text).toBe('Hi there.')
    expect(JSON.parse(args)).toEqual({ city: 'Oslo' })
    expect(payloads(out).find((p) => p.type === 'message_delta')).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { input_tokens: 30, output_tokens: 9 } })
  })
})
