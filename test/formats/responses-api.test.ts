/**
 * The OpenAI Responses codec, against request fixtures typed as the official SDK's params and against the
 * official `openai` SDK itself: response objects and event streams are served over HTTP to
 * `client.responses.create()` / `responses.stream()`, and a small translating proxy sends Responses clients to the
 * mock's chat endpoint (and chat clients to the mock's /v1/responses).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import OpenAI from 'openai'
import type { ResponseCreateParamsNonStreaming, ResponseCreateParamsStreaming, ResponseInputItem } from 'openai/resources/responses/responses'
import { GatewayError } from '../../core/errors.ts'
import {
  codecFor, createStreamTranslator, errorBody, setUpstreamModel, streamErrorFrames, streamUsageReader,
  translateRequest, translateResponse, upstreamErrorInfo, usageFromBody,
  type CanonicalResponse, type CanonicalStreamEvent, type SSEFrame, type TranslateInfo, type WireFormat,
} from '../../core/formats/index.ts'
import type { SSEEvent } from '../../core/types.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { anthropicToolStream, openaiRequest, openaiToolStream, PNG_B64 } from './fixtures.ts'
import { freshUsage, INFO, parseSSE, payloads, sse } from './helpers.ts'
import { expectSdkEvents, expectSdkResponse } from './responses-shapes.ts'

const codec = codecFor('openai-responses')
const PNG_URL = `data:image/png;base64,${PNG_B64}`

// ---------------------------------------------------------------------------------------------------------
// Request fixtures, typed as the SDK's own params
// ---------------------------------------------------------------------------------------------------------

const WEATHER = {
  type: 'function' as const, name: 'get_weather', description: 'Weather in a city', strict: true,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
}

/** A second turn of a tool loop, as an app using `store: false` and encrypted reasoning sends it. */
const toolLoop = () => ({
  model: 'anthropic/claude-sonnet-4-5',
  instructions: 'You are a weather bot.',
  input: [
    { role: 'developer', content: 'Answer briefly.' },
    {
      role: 'user',
      content: [
        { type: 'input_text', text: 'Weather in Paris and Tokyo? And what is this?' },
        { type: 'input_image', image_url: PNG_URL, detail: 'low' },
        { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'auto' },
      ],
    },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Two cities.' }, { type: 'summary_text', text: 'Two calls.' }], encrypted_content: 'gAAAAB-opaque' },
    { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Checking both.', annotations: [] }] },
    { type: 'function_call', id: 'fc_1', call_id: 'call_P', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
    { type: 'function_call', call_id: 'call_T', name: 'get_weather', arguments: '{"city":"Tokyo"}' },
    { type: 'function_call_output', call_id: 'call_P', output: '21C clear' },
    { type: 'function_call_output', call_id: 'call_T', output: [{ type: 'input_text', text: 'see chart' }, { type: 'input_image', image_url: PNG_URL }] },
    { role: 'user', content: 'And tomorrow?' },
  ],
  tools: [WEATHER],
  tool_choice: { type: 'function', name: 'get_weather' },
  parallel_tool_calls: false,
  text: { format: { type: 'json_schema', name: 'forecast', schema: { type: 'object', properties: { sky: { type: 'string' } } }, strict: true } },
  reasoning: { effort: 'medium', summary: 'auto' },
  max_output_tokens: 500,
  temperature: 0.3,
  top_p: 0.9,
  safety_identifier: 'user-42',
  store: false,
  include: ['reasoning.encrypted_content'],
  prompt_cache_key: 'weather',
  metadata: { app: 'test' },
} satisfies ResponseCreateParamsNonStreaming)

function rejects(fn: () => unknown, pattern: RegExp, param: string) {
  let thrown: unknown
  try { fn() } catch (error) { thrown = error }
  expect(GatewayError.is(thrown), 'expected a GatewayError').toBe(true)
  expect(thrown).toMatchObject({ status: 400, param })
  expect((thrown as Error).message).toMatch(pattern)
}

describe('decodeRequest', () => {
  it('a string input with instructions, sampling, limits and the user id', () => {
    const body = { model: 'm', instructions: 'Be brief.', input: 'Hello', max_output_tokens: 64, temperature: 0.5, top_p: 0.8, user: 'u1', stream: true, store: true, service_tier: 'flex', truncation: 'auto' } satisfies ResponseCreateParamsStreaming
    expect(codec.decodeRequest!(body)).toEqual({
      model: 'm', system: ['Be brief.'], messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
      stream: true, maxTokens: 64, temperature: 0.5, topP: 0.8, user: 'u1',
    })
  })

  it('a tool loop: reasoning, text and calls make one assistant turn, the outputs one tool turn, images kept', () => {
    const request = codec.decodeRequest!(toolLoop())
    expect(request.system).toEqual(['You are a weather bot.', 'Answer briefly.'])
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in Paris and Tokyo? And what is this?' },
          { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG_B64 } },
          { type: 'image', source: { kind: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', text: 'Two cities.\n\nTwo calls.', encryptedContent: 'gAAAAB-opaque' },
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_call', id: 'call_P', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'tool_call', id: 'call_T', name: 'get_weather', arguments: '{"city":"Tokyo"}' },
        ],
      },
      {
        role: 'tool',
        content: [
          { type: 'tool_result', toolCallId: 'call_P', content: [{ type: 'text', text: '21C clear' }] },
          { type: 'tool_result', toolCallId: 'call_T', content: [{ type: 'text', text: 'see chart' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: PNG_B64 } }] },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
    ])
    expect(request).toMatchObject({
      tools: [{ name: 'get_weather', description: 'Weather in a city', parameters: WEATHER.parameters, strict: true }],
      toolChoice: { type: 'tool', name: 'get_weather' }, parallelToolCalls: false,
      responseFormat: { type: 'json_schema', name: 'forecast', schema: toolLoop().text.format.schema, strict: true },
      reasoning: { effort: 'medium' }, maxTokens: 500, temperature: 0.3, topP: 0.9, user: 'user-42',
    })
    // What only OpenAI's servers act on is not part of the canonical request.
    for (const key of ['store', 'include', 'prompt_cache_key', 'metadata']) expect(JSON.stringify(request)).not.toContain(key)
  })

  it('the tool loop reaches Chat and Anthropic providers whole; encrypted reasoning goes to neither', () => {
    const chat = translateRequest(toolLoop(), 'openai-responses', 'openai-chat') as any
    expect(chat.messages.map((m: any) => m.role)).toEqual(['system', 'system', 'user', 'assistant', 'tool', 'tool', 'user', 'user'])
    expect(chat.messages[3]).toMatchObject({ content: 'Checking both.', tool_calls: [{ id: 'call_P' }, { id: 'call_T' }] })
    expect(chat).toMatchObject({ tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false, max_completion_tokens: 500, reasoning_effort: 'medium', response_format: { type: 'json_schema', json_schema: { name: 'forecast' } } })

    const anthropic = translateRequest(toolLoop(), 'openai-responses', 'anthropic-messages') as any
    expect(anthropic.messages[1].content.map((b: any) => b.type)).toEqual(['text', 'tool_use', 'tool_use'])
    expect(anthropic.messages[2].content.map((b: any) => b.type)).toEqual(['tool_result', 'tool_result', 'text'])
    expect(anthropic.messages[2].content[1].content[1]).toEqual({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } })
  })

  it('text formats, reasoning efforts beyond the canonical range, and allowed_tools', () => {
    const decode = (extra: Record<string, unknown>) => codec.decodeRequest!({ model: 'm', input: 'x', ...extra })
    expect(decode({ text: { format: { type: 'json_object' } } }).responseFormat).toEqual({ type: 'json_object' })
    expect(decode({ text: { format: { type: 'text' } } }).responseFormat).toBeUndefined()
    expect(decode({ reasoning: { effort: 'none' } }).reasoning).toBeUndefined()
    expect(decode({ reasoning: { effort: 'xhigh' } }).reasoning).toEqual({ effort: 'high' })
    expect(decode({ reasoning: { effort: 'minimal' } }).reasoning).toEqual({ effort: 'minimal' })
    const narrowed = decode({ tools: [WEATHER, { ...WEATHER, name: 'get_time', strict: undefined }], tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'get_time' }] } })
    expect(narrowed.tools).toEqual([{ name: 'get_time', description: 'Weather in a city', parameters: WEATHER.parameters, strict: true }])
    expect(narrowed.toolChoice).toEqual({ type: 'required' })
  })

  it('refuses, naming it, what only OpenAI can serve: hosted tools, stored items and files, templates', () => {
    for (const type of ['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'computer_use_preview', 'image_generation', 'mcp', 'local_shell', 'shell', 'apply_patch', 'tool_search']) {
      rejects(() => translateRequest({ model: 'm', input: 'x', tools: [WEATHER, { type }] }, 'openai-responses', 'anthropic-messages'), new RegExp(`tools\\[1\\].*'${type}'.*send the request without it`), 'tools')
    }
    const input = (item: ResponseInputItem) => ({ model: 'm', input: [item] })
    rejects(() => codec.decodeRequest!(input({ type: 'item_reference', id: 'msg_9' })), /item_reference 'msg_9'/, 'input')
    rejects(() => codec.decodeRequest!(input({ role: 'user', content: [{ type: 'input_image', file_id: 'file-1', detail: 'auto' }] })), /file_id/, 'input')
    rejects(() => codec.decodeRequest!(input({ role: 'user', content: [{ type: 'input_file', file_data: 'x', filename: 'a.pdf' }] })), /'input_file'/, 'input')
    rejects(() => codec.decodeRequest!(input({ type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } } as ResponseInputItem)), /'web_search_call' items/, 'input')
    rejects(() => codec.decodeRequest!({ model: 'm', input: 'x', prompt: { id: 'pmpt_1' } }), /prompt templates/, 'prompt')
    rejects(() => codec.decodeRequest!({ model: 'm', input: 'x', tool_choice: { type: 'web_search_preview' } }), /tool_choice 'web_search_preview'/, 'tool_choice')
    rejects(() => codec.decodeRequest!({ model: 'm' }), /input is required/, 'input')
  })
})

describe('encodeRequest', () => {
  it('a Chat request as a Responses body: instructions, items, non-strict tools, formats, no storage', () => {
    const body = translateRequest(openaiRequest(), 'openai-chat', 'openai-responses') as any
    expect(body.instructions).toBe('You are a weather bot.')
    expect(body.input[0]).toEqual({ type: 'message', role: 'system', content: 'Answer briefly.' })
    expect(body.input[1].content).toEqual([
      { type: 'input_text', text: 'What is in this picture, and the weather in Paris and Tokyo?' },
      { type: 'input_image', image_url: PNG_URL, detail: 'auto' },
      { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'auto' },
    ])
    expect(body.input.slice(2).map((item: any) => item.type === 'message' ? `${item.role}:${JSON.stringify(item.content)}` : `${item.type}:${item.call_id}`)).toEqual([
      'function_call:call_abc', 'function_call:call_def', 'function_call_output:call_abc', 'function_call_output:call_def',
      'user:[{"type":"input_text","text":"Thanks! Summarise as JSON."}]',
    ])
    // Chat tools are not strict unless they say so, and the Responses API would make them strict.
    expect(body.tools.map((t: any) => [t.name, t.strict])).toEqual([['get_weather', false], ['get_time', false]])
    expect(body).toMatchObject({
      store: false, tool_choice: 'required', parallel_tool_calls: false, max_output_tokens: 300, temperature: 1.4, top_p: 0.9, user: 'user-42', stream: true,
      text: { format: { type: 'json_schema', name: 'summary', schema: { type: 'object', properties: { text: { type: 'string' } } }, strict: true } },
    })
    for (const dropped of ['stop', 'seed', 'messages', 'response_format', 'stream_options']) expect(body).not.toHaveProperty(dropped)
  })

  it('decoding what it encoded gives the canonical request back (less strictness it had to state)', () => {
    const canonical = codec.decodeRequest!(toolLoop())
    const again = codec.decodeRequest!(codec.encodeRequest!(canonical))
    expect(again).toEqual({ ...canonical, system: canonical.system, stream: false })
    // Encrypted reasoning goes back as a reasoning item; thinking OpenAI did not encrypt has nowhere to go.
    const items = codec.encodeRequest!({ system: [], stream: false, messages: [{ role: 'assistant', content: [{ type: 'thinking', text: 'signed elsewhere', signature: 'sig' }, { type: 'text', text: 'hi' }] }] }).input
    expect(items).toEqual([{ type: 'message', role: 'assistant', content: 'hi' }])
  })

  it('asks for reasoning summaries only when the client asked to see thinking (a budget)', () => {
    const anthropic = { model: 'm', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: [{ role: 'user', content: 'hi' }] }
    expect((translateRequest(anthropic, 'anthropic-messages', 'openai-responses') as any).reasoning).toEqual({ effort: 'low', summary: 'auto' })
    expect((translateRequest({ ...openaiRequest(), reasoning_effort: 'high' }, 'openai-chat', 'openai-responses') as any).reasoning).toEqual({ effort: 'high' })
  })
})

// ---------------------------------------------------------------------------------------------------------
// Response objects
// ---------------------------------------------------------------------------------------------------------

/** A response as the API returns it: encrypted reasoning, text, two parallel calls, cached and reasoning tokens. */
const upstreamResponse = () => ({
  id: 'resp_abc', object: 'response', created_at: 1741476542, status: 'completed', error: null, incomplete_details: null,
  model: 'gpt-5-2025-08-07',
  output: [
    { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Two calls needed.' }], encrypted_content: 'gAAAAB-x' },
    { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Checking both.', annotations: [], logprobs: [] }] },
    { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_P', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { id: 'fc_2', type: 'function_call', status: 'completed', call_id: 'call_T', name: 'get_weather', arguments: '{"city":"Tokyo"}' },
  ],
  usage: { input_tokens: 1200, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 90, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 1290 },
})

describe('responses', () => {
  it('decodes a response object and reaches Chat and Anthropic clients', () => {
    const canonical = codec.decodeResponse!(upstreamResponse(), INFO)
    expect(canonical).toEqual({
      id: 'resp_abc', model: 'gpt-5-2025-08-07', finishReason: 'tool_calls',
      content: [
        { type: 'thinking', text: 'Two calls needed.', encryptedContent: 'gAAAAB-x' },
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_call', id: 'call_P', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'tool_call', id: 'call_T', name: 'get_weather', arguments: '{"city":"Tokyo"}' },
      ],
      usage: { inputTokens: 1200, cachedTokens: 1024, cacheWriteTokens: 0, outputTokens: 90, reasoningTokens: 64 },
    })
    const anthropic = translateResponse(upstreamResponse(), 'openai-responses', 'anthropic-messages', INFO) as any
    expect(anthropic.content.map((b: any) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use'])
    expect(anthropic).toMatchObject({ stop_reason: 'tool_use', usage: { input_tokens: 176, cache_read_input_tokens: 1024, output_tokens: 90 } })
    const chat = translateResponse(upstreamResponse(), 'openai-responses', 'openai-chat', INFO) as any
    expect(chat.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: 'Checking both.', tool_calls: [{ id: 'call_P' }, { id: 'call_T' }] } })
    expect(chat.usage).toMatchObject({ prompt_tokens: 1200, completion_tokens: 90, prompt_tokens_details: { cached_tokens: 1024 }, completion_tokens_details: { reasoning_tokens: 64 } })
  })

  it('incomplete responses finish as length or content_filter; a refusal is text', () => {
    const incomplete = (reason: string) => codec.decodeResponse!({ ...upstreamResponse(), status: 'incomplete', incomplete_details: { reason }, output: [] }, INFO).finishReason
    expect(incomplete('max_output_tokens')).toBe('length')
    expect(incomplete('content_filter')).toBe('content_filter')
    const refusal = { ...upstreamResponse(), output: [{ id: 'm', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: 'I cannot help.' }] }] }
    expect(codec.decodeResponse!(refusal, INFO)).toMatchObject({ content: [{ type: 'text', text: 'I cannot help.' }], finishReason: 'stop' })
  })

  it('encodes a response object with every key the SDK types require, echoing the client request', () => {
    const info = { ...INFO, request: toolLoop() }
    const out = codec.encodeResponse!(codec.decodeResponse!(upstreamResponse(), INFO), info) as any
    expectSdkResponse(out)
    expect(out).toMatchObject({
      id: 'resp_req123', object: 'response', created_at: INFO.created, status: 'completed', model: 'client-model', error: null, incomplete_details: null,
      instructions: 'You are a weather bot.', tools: [WEATHER], tool_choice: { type: 'function', name: 'get_weather' }, parallel_tool_calls: false,
      temperature: 0.3, top_p: 0.9, max_output_tokens: 500, reasoning: { effort: 'medium', summary: 'auto' }, text: { format: toolLoop().text.format },
      metadata: { app: 'test' }, safety_identifier: 'user-42',
      usage: { input_tokens: 1200, input_tokens_details: { cached_tokens: 1024 }, output_tokens: 90, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 1290 },
    })
    expect(out.output).toEqual([
      { id: 'rs_req123_0', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Two calls needed.' }], encrypted_content: 'gAAAAB-x' },
      { id: 'msg_req123_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'Checking both.' }] },
      { id: 'fc_req123_2', type: 'function_call', status: 'completed', arguments: '{"city":"Paris"}', call_id: 'call_P', name: 'get_weather' },
      { id: 'fc_req123_3', type: 'function_call', status: 'completed', arguments: '{"city":"Tokyo"}', call_id: 'call_T', name: 'get_weather' },
    ])
    const unknown = codec.encodeResponse!({ content: [{ type: 'text', text: 'cut' }], finishReason: 'length' }, INFO) as any
    expectSdkResponse(unknown)
    expect(unknown).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, tools: [], tool_choice: 'auto', temperature: null, instructions: null })
  })
})

describe('usage, completion and errors', () => {
  it('reads usage from a body and from the terminal stream event only', () => {
    const usage = freshUsage()
    expect(usageFromBody('openai-responses', upstreamResponse(), usage)).toBe(true)
    expect(usage).toEqual({ inputTokens: 1200, outputTokens: 90, cachedTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 64, estimated: false })

    const frames = encodeEvents(TEXT_AND_TOOLS)
    const streamed = freshUsage()
    const read = streamUsageReader('openai-responses')
    const terminal = parseSSE(frameText(frames)).filter((event) => { read(event, streamed); return codec.streamDone(event) })
    expect(terminal.map((e) => e.event)).toEqual(['response.completed'])
    expect(streamed).toEqual({ inputTokens: 120, outputTokens: 45, cachedTokens: 100, cacheWriteTokens: 0, reasoningTokens: 12, estimated: false })
    // Without `event:` lines the type in the data still tells, and a quoted type inside model text does not.
    expect(codec.streamDone(sse({ type: 'response.incomplete', response: {} }))).toBe(true)
    expect(codec.streamDone(sse({ type: 'response.output_text.delta', delta: '"type":"response.completed"' }))).toBe(false)
  })

  it('errors in the OpenAI shape; a passthrough stream that died ends with an error event', () => {
    const info = { status: 429, message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' }
    expect(errorBody('openai-responses', info)).toEqual({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } })
    expect(upstreamErrorInfo('openai-responses', 400, { error: { message: 'bad', type: 'invalid_request_error', param: 'input', code: null } })).toMatchObject({ status: 400, param: 'input', type: 'invalid_request_error' })
    expect(payloads(streamErrorFrames('openai-responses', info))).toEqual([{ type: 'error', sequence_number: 0, code: 'rate_limit_exceeded', message: 'slow down', param: null }])
  })
})

// ---------------------------------------------------------------------------------------------------------
// Streams through the official SDK
// ---------------------------------------------------------------------------------------------------------

const TEXT_AND_TOOLS: CanonicalStreamEvent[] = [
  { type: 'start', id: 'up1', model: 'upstream-model', usage: { inputTokens: 120 } },
  { type: 'thinking', text: 'Two cities, ' }, { type: 'thinking', text: 'two calls.' },
  { type: 'text', text: 'Checking' }, { type: 'text', text: ' both.' },
  { type: 'tool_call_start', index: 0, id: 'call_P', name: 'get_weather' },
  { type: 'tool_call_delta', index: 0, arguments: '{"city":' }, { type: 'tool_call_delta', index: 0, arguments: '"Paris"}' },
  { type: 'tool_call_start', index: 1, id: 'call_T', name: 'get_weather' },
  { type: 'tool_call_delta', index: 1, arguments: '{"city":"Tokyo"}' },
  { type: 'finish', reason: 'tool_calls' },
  { type: 'usage', usage: { inputTokens: 120, cachedTokens: 100, outputTokens: 45, reasoningTokens: 12 } },
  { type: 'done' },
]

function encodeEvents(events: CanonicalStreamEvent[], info: TranslateInfo = INFO): SSEFrame[] {
  const encoder = codec.streamEncoder!(info)
  return [...events.flatMap((event) => encoder.encode(event)), ...encoder.end()]
}

function translate(from: WireFormat, to: WireFormat, events: SSEEvent[], info: TranslateInfo = INFO): SSEFrame[] {
  const translator = createStreamTranslator(from, to, info)
  return [...events.flatMap((event) => translator.push(event)), ...(translator.upstreamDone ? translator.end() : translator.error({ status: 502, message: 'upstream stream ended early', type: 'api_error' }))]
}

const frameText = (frames: SSEFrame[]) => frames.map((f) => `${f.event ? `event: ${f.event}\n` : ''}data: ${f.data}\n\n`).join('')

/** Canonical streams the in-test server plays to the SDK, by the model name the client asks for. */
const STREAMS: Record<string, (info: TranslateInfo) => SSEFrame[]> = {
  'text-and-tools': (info) => encodeEvents(TEXT_AND_TOOLS, info),
  'cut-short': (info) => encodeEvents([{ type: 'text', text: 'Once upon' }, { type: 'finish', reason: 'length' }, { type: 'usage', usage: { inputTokens: 5, outputTokens: 2 } }], info),
  'fails-midway': (info) => encodeEvents([{ type: 'text', text: 'Partial' }, { type: 'error', status: 529, message: 'Overloaded', errorType: 'overloaded_error' }], info),
  'from-chat': (info) => translate('openai-chat', 'openai-responses', openaiToolStream(), info),
  'from-anthropic': (info) => translate('anthropic-messages', 'openai-responses', anthropicToolStream(), info),
}

let server: Server
let mock: MockOpenAI
let base: string

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

/** /play/v1/responses: STREAMS (or their collected response) through the codec. */
function play(body: any, res: ServerResponse) {
  const info = { model: body.model, id: 'req123', created: INFO.created, request: body }
  const frames = STREAMS[body.model]!(info)
  if (body.stream) return res.writeHead(200, { 'content-type': 'text/event-stream' }).end(frameText(frames))
  const events = frames.map((f) => sse(f.data, f.event)).flatMap(codec.streamDecoder!(info))
  const response: CanonicalResponse = { content: [], finishReason: 'stop' }
  for (const e of events) {
    if (e.type === 'text') response.content.push({ type: 'text', text: e.text })
    if (e.type === 'finish') response.finishReason = e.reason
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(codec.encodeResponse!(response, info)))
}

/** /proxy/v1/...: the client's format translated to the mock's other OpenAI API and back. */
async function proxy(client: WireFormat, body: any, res: ServerResponse) {
  const upstreamFormat: WireFormat = client === 'openai-chat' ? 'openai-responses' : 'openai-chat'
  const upstreamBody = setUpstreamModel(translateRequest(body, client, upstreamFormat), upstreamFormat, 'gpt-mock')
  if (upstreamFormat === 'openai-chat' && body.stream) upstreamBody.stream_options = { include_usage: true }
  const path = upstreamFormat === 'openai-chat' ? '/chat/completions' : '/responses'
  const upstream = await fetch(mock.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(upstreamBody) })
  const info = { model: body.model, id: 'px1', request: body }
  if (!upstream.ok) {
    const error = upstreamErrorInfo(upstreamFormat, upstream.status, await upstream.json())
    return res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody(client, error)))
  }
  if (!body.stream) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(translateResponse(await upstream.json(), upstreamFormat, client, info)))
  res.writeHead(200, { 'content-type': 'text/event-stream' }).end(frameText(translate(upstreamFormat, client, parseSSE(await upstream.text()), info)))
}

beforeAll(async () => {
  mock = await startMockOpenAI()
  server = createServer(async (req, res) => {
    const body = await readJson(req)
    if (req.url === '/play/v1/responses') return play(body, res)
    await proxy(req.url === '/proxy/v1/chat/completions' ? 'openai-chat' : 'openai-responses', body, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => server?.close(() => resolve()))
  await mock?.close()
})

const sdk = (path: string) => new OpenAI({ baseURL: `${base}${path}`, apiKey: 'test-key', maxRetries: 0 })

describe('stream encoder, read by the official SDK', () => {
  it('writes the exact event sequence, every event typed and numbered', () => {
    const frames = encodeEvents(TEXT_AND_TOOLS)
    expectSdkEvents(frames)
    const item = ['response.output_item.added', 'response.output_item.done']
    expect(frames.map((f) => f.event)).toEqual([
      'response.created', 'response.in_progress',
      item[0], 'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta', 'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done', 'response.reasoning_summary_part.done', item[1],
      item[0], 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', item[1],
      item[0], 'response.function_call_arguments.delta', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', item[1],
      item[0], 'response.function_call_arguments.delta', 'response.function_call_arguments.done', item[1],
      'response.completed',
    ])
  })

  it('text, reasoning, two function calls and usage come out of finalResponse()', async () => {
    const stream = sdk('/play/v1').responses.stream({ model: 'text-and-tools', input: 'Weather in Paris and Tokyo?' })
    const deltas: string[] = []
    stream.on('response.output_text.delta', (event) => deltas.push(event.snapshot))
    const final = await stream.finalResponse()
    expect(deltas).toEqual(['Checking', 'Checking both.'])
    expect(final).toMatchObject({ id: 'resp_req123', status: 'completed', model: 'text-and-tools', output_text: 'Checking both.' })
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call'])
    expect(final.output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: 'Two cities, two calls.' }] })
    expect(final.output.filter((item) => item.type === 'function_call').map((c: any) => [c.call_id, c.name, JSON.parse(c.arguments)])).toEqual([
      ['call_P', 'get_weather', { city: 'Paris' }], ['call_T', 'get_weather', { city: 'Tokyo' }],
    ])
    expect(final.usage).toEqual({ input_tokens: 120, input_tokens_details: { cached_tokens: 100, cache_write_tokens: 0 }, output_tokens: 45, output_tokens_details: { reasoning_tokens: 12 }, total_tokens: 165 })
  })

  it('responses.create({ stream: true }) yields typed events in sequence; a non-stream create reads the same output', async () => {
    const events = []
    for await (const event of await sdk('/play/v1').responses.create({ model: 'text-and-tools', input: 'x', stream: true })) events.push(event)
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed' } })
    const whole = await sdk('/play/v1').responses.create({ model: 'text-and-tools', input: 'x' })
    expect(whole.output_text).toBe('Checking both.')
  })

  it('a response cut short ends with response.incomplete', async () => {
    const final = await sdk('/play/v1').responses.stream({ model: 'cut-short', input: 'x' }).finalResponse()
    expect(final).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output_text: 'Once upon', usage: { input_tokens: 5, output_tokens: 2 } })
  })

  it('an upstream failure ends with the error event, then response.failed; the SDK raises the error', async () => {
    const frames = encodeEvents([{ type: 'text', text: 'Partial' }, { type: 'error', status: 529, message: 'Overloaded', errorType: 'overloaded_error' }])
    expectSdkEvents(frames)
    expect(frames.slice(-2).map((f) => JSON.parse(f.data))).toMatchObject([
      { type: 'error', code: 'overloaded_error', message: 'Overloaded', param: null },
      { type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'Overloaded' }, output: [{ type: 'message', status: 'incomplete', content: [{ text: 'Partial' }] }] } },
    ])
    const error = await sdk('/play/v1').responses.stream({ model: 'fails-midway', input: 'x' }).finalResponse().catch((e) => e)
    expect(error).toMatchObject({ type: 'error', message: 'Overloaded' })
  })

  it('arguments of a call whose item already closed still reach its item (upstreams that interleave calls)', () => {
    const frames = encodeEvents([
      { type: 'tool_call_start', index: 0, id: 'a', name: 'f' }, { type: 'tool_call_delta', index: 0, arguments: '{"n":' },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'g' }, { type: 'tool_call_delta', index: 0, arguments: '1}' },
      { type: 'tool_call_delta', index: 1, arguments: '{}' },
    ])
    expectSdkEvents(frames)
    const completed = JSON.parse(frames.at(-1)!.data).response
    expect(completed.output.map((c: any) => [c.call_id, c.arguments])).toEqual([['a', '{"n":1}'], ['b', '{}']])
  })
})

describe('stream translation', () => {
  it('a chat stream reaches a Responses client: text, then the two calls, with usage', async () => {
    const frames = translate('openai-chat', 'openai-responses', openaiToolStream())
    expectSdkEvents(frames)
    const final = await sdk('/play/v1').responses.stream({ model: 'from-chat', input: 'x' }).finalResponse()
    expect(final.output_text).toBe('Checking both.')
    expect(final.output.slice(1).map((c: any) => [c.call_id, JSON.parse(c.arguments)])).toEqual([['call_P', { city: 'Paris' }], ['call_T', { city: 'Tokyo' }]])
    expect(final.usage).toMatchObject({ input_tokens: 80, input_tokens_details: { cached_tokens: 64 }, output_tokens: 40 })
  })

  it('an Anthropic stream reaches a Responses client', async () => {
    const final = await sdk('/play/v1').responses.stream({ model: 'from-anthropic', input: 'x' }).finalResponse()
    expect(final).toMatchObject({ status: 'completed', output_text: 'Checking both.', usage: { input_tokens: 130, output_tokens: 89 } })
    expect(final.output.filter((i) => i.type === 'function_call').map((c: any) => c.call_id)).toEqual(['toolu_P', 'toolu_T'])
  })

  it('Responses events decode back to the same canonical stream they were encoded from', () => {
    const decode = codec.streamDecoder!(INFO)
    const events = parseSSE(frameText(encodeEvents(TEXT_AND_TOOLS))).flatMap(decode)
    expect(events).toEqual([
      { type: 'start', id: 'resp_req123', model: 'client-model' },
      { type: 'thinking', text: 'Two cities, ' }, { type: 'thinking', text: 'two calls.' },
      { type: 'text', text: 'Checking' }, { type: 'text', text: ' both.' },
      { type: 'tool_call_start', index: 0, id: 'call_P', name: 'get_weather' },
      { type: 'tool_call_delta', index: 0, arguments: '{"city":' }, { type: 'tool_call_delta', index: 0, arguments: '"Paris"}' },
      { type: 'tool_call_start', index: 1, id: 'call_T', name: 'get_weather' },
      { type: 'tool_call_delta', index: 1, arguments: '{"city":"Tokyo"}' },
      { type: 'usage', usage: { inputTokens: 120, outputTokens: 45, cachedTokens: 100, cacheWriteTokens: 0, reasoningTokens: 12 } },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'done' },
    ])
  })

  it('a server that sends whole items without deltas still gets its text and arguments through', () => {
    const item = (output_index: number, item: object) => sse({ type: 'response.output_item.done', output_index, item }, 'response.output_item.done')
    const frames = translate('openai-responses', 'openai-chat', [
      sse({ type: 'response.created', response: { id: 'r', model: 'm' } }, 'response.created'),
      item(0, { type: 'message', content: [{ type: 'output_text', text: 'Whole.' }] }),
      item(1, { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":1}' }),
      sse({ type: 'response.completed', response: { status: 'completed', usage: null } }, 'response.completed'),
    ])
    const chunks = payloads(frames)
    expect(chunks.map((c) => c.choices[0]?.delta.content).join('')).toBe('Whole.')
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])).toEqual([
      { index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '' } }, { index: 0, function: { arguments: '{"a":1}' } },
    ])
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls')
  })

  it('an upstream error event (flat or nested) becomes the client format’s error, once', () => {
    const created = sse({ type: 'response.created', response: { id: 'r' } }, 'response.created')
    const failure = [
      sse({ type: 'error', code: 'rate_limit_exceeded', message: 'Slow down', param: null, sequence_number: 1 }, 'error'),
      sse({ type: 'response.failed', response: { error: { code: 'rate_limit_exceeded', message: 'Slow down' } } }, 'response.failed'),
    ]
    expect(failure.flatMap(codec.streamDecoder!(INFO))).toEqual([{ type: 'error', status: 429, message: 'Slow down', errorType: 'rate_limit_error' }])
    const flat = translate('openai-responses', 'anthropic-messages', [created, ...failure])
    expect(frames(flat, 'error')).toEqual([{ type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } }])
    const nested = translate('openai-responses', 'openai-chat', [created, sse({ type: 'error', sequence_number: 2, error: { type: 'invalid_request_error', code: 'invalid_prompt', message: 'Bad prompt', param: null } }, 'error')])
    expect(payloads(nested).at(-1)).toEqual({ error: { message: 'Bad prompt', type: 'invalid_request_error', param: null, code: null } })
  })

  it('any text split anyhow arrives whole at a Responses client, and back at a chat client', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }), { minLength: 1, maxLength: 30 }), (pieces) => {
      const chat = pieces.map((p) => sse({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: p }, finish_reason: null }] }))
      const responses = translate('openai-chat', 'openai-responses', [...chat, sse({ id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), sse('[DONE]')])
      const completed = JSON.parse(responses.at(-1)!.data)
      expect(completed.response.output[0].content[0].text).toBe(pieces.join(''))
      const back = translate('openai-responses', 'openai-chat', parseSSE(frameText(responses)))
      expect(payloads(back).map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(pieces.join(''))
    }))
  })
})

/** The payloads of frames named `event`. */
function frames(list: SSEFrame[], event: string) {
  return list.filter((f) => f.event === event).map((f) => JSON.parse(f.data))
}

describe('the mock upstream’s /v1/responses, and translation through it', () => {
  const direct = () => new OpenAI({ baseURL: mock.url, apiKey: 'test-key', maxRetries: 0 })

  it('serves the typed event sequence the SDK accumulates, with usage, and [tools] as two function calls', async () => {
    const text = await direct().responses.stream({ model: 'gpt-mock', input: 'hello there' }).finalResponse()
    expect(text).toMatchObject({ status: 'completed', output_text: 'echo: hello there', usage: { input_tokens: 2, output_tokens: 3 } })
    const tools = await direct().responses.stream({ model: 'gpt-mock', input: [{ role: 'user', content: [{ type: 'input_text', text: 'go [tools]' }] }] }).finalResponse()
    expect(tools.output.map((c: any) => [c.type, c.call_id, c.arguments])).toEqual([
      ['function_call', 'call_weather_1', '{"city":"Paris","unit":"celsius"}'], ['function_call', 'call_time_2', '{"timezone":"Europe/Paris"}'],
    ])
    const raw = await fetch(`${mock.url}/responses`, { method: 'POST', body: JSON.stringify({ model: 'gpt-mock', input: 'hi [tools]', stream: true }) })
    const events = parseSSE(await raw.text())
    expectSdkEvents(events.map((e) => ({ event: e.event, data: e.data })))
    expect(events.filter((e) => codec.streamDone(e)).map((e) => e.event)).toEqual(['response.completed'])
  })

  it('answers non-stream with a response object, and [error N] in the OpenAI error shape', async () => {
    const whole = await direct().responses.create({ model: 'gpt-mock', input: 'hi' })
    expectSdkResponse(whole)
    expect(whole.output_text).toBe('echo: hi')
    const error = await direct().responses.create({ model: 'gpt-mock', input: 'x [error 429]' }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
  })

  it('a Responses client through the mock’s chat API: tools streamed, then the tool results turn', async () => {
    const client = sdk('/proxy/v1')
    const first = await client.responses.stream({ model: 'alias', input: 'Weather? [tools]', tools: [WEATHER] }).finalResponse()
    const calls = first.output.filter((item) => item.type === 'function_call')
    expect(calls.map((c: any) => [c.call_id, c.name])).toEqual([['call_weather_1', 'get_weather'], ['call_time_2', 'get_time']])
    expect(first.usage).toMatchObject({ input_tokens: 2, output_tokens: 2 })
    const next = await client.responses.create({
      model: 'alias', tools: [WEATHER],
      input: [{ role: 'user', content: 'Weather? [tools]' }, ...calls, ...calls.map((c: any) => ({ type: 'function_call_output' as const, call_id: c.call_id, output: 'ok' })), { role: 'user', content: 'Thanks' }],
    })
    expect(next.output_text).toBe('echo: Thanks')
    const chatBody = mock.requests.at(-1)!.body
    expect(chatBody.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'user'])
  })

  it('a chat client through the mock’s Responses API, streamed and not, and its errors', async () => {
    const client = sdk('/proxy/v1')
    const final = await client.chat.completions.stream({ model: 'alias', messages: [{ role: 'user', content: 'hello there' }], stream_options: { include_usage: true } }).finalChatCompletion()
    expect(final.choices[0]).toMatchObject({ message: { content: 'echo: hello there' }, finish_reason: 'stop' })
    expect(final.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 3 })
    expect(mock.requests.at(-1)).toMatchObject({ path: '/v1/responses', body: { store: false, stream: true, input: [{ role: 'user' }] } })
    const tools = await client.chat.completions.create({ model: 'alias', messages: [{ role: 'user', content: 'go [tools]' }], tools: [{ type: 'function', function: { name: 'get_weather', parameters: {} } }] })
    expect(tools.choices[0]!.finish_reason).toBe('tool_calls')
    expect(tools.choices[0]!.message.tool_calls!.map((c: any) => c.id)).toEqual(['call_weather_1', 'call_time_2'])
    const error = await client.chat.completions.create({ model: 'alias', messages: [{ role: 'user', content: 'x [error 429]' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
  })
})
