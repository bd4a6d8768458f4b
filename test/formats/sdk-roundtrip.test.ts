/**
 * The codecs against the official SDKs and the mock upstreams, through a minimal in-test proxy (not the
 * gateway: just translateRequest -> mock -> translateResponse / createStreamTranslator). Proves the frames
 * satisfy the SDKs' own stream helpers (finalChatCompletion, finalMessage) and that the mocks accept the
 * translated requests.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import {
  createStreamTranslator, errorBody, setUpstreamModel, translateRequest, translateResponse, upstreamErrorInfo,
  type WireFormat,
} from '../../core/formats/index.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startMockGemini } from '../fixtures/mock-gemini.ts'
import { frameText, parseSSE, sse } from './helpers.ts'

let anthropicMock: MockUpstream
let geminiMock: MockUpstream
let proxy: Server
let proxyUrl: string

async function forward(clientFormat: WireFormat, providerFormat: WireFormat, clientBody: Record<string, any>, res: import('node:http').ServerResponse) {
  const model = providerFormat === 'gemini' ? 'gemini-2.5-flash' : 'claude-sonnet-4-5'
  const stream = clientBody.stream === true
  const body = setUpstreamModel(translateRequest(clientBody, clientFormat, providerFormat), providerFormat, model)
  const url = providerFormat === 'gemini'
    ? `${geminiMock.url}/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`
    : `${anthropicMock.url}/v1/messages`
  const headers: Record<string, string> = providerFormat === 'gemini'
    ? { 'content-type': 'application/json', 'x-goog-api-key': 'test-gemini-key' }
    : { 'content-type': 'application/json', 'x-api-key': 'test-anthropic-key', 'anthropic-version': '2023-06-01' }
  const info = { model: String(clientBody.model), id: 'rt1' }
  const upstream = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) }).catch(() => undefined)
  if (!upstream || !upstream.ok) {
    const status = upstream?.status ?? 502
    const parsed = upstream ? await upstream.json().catch(() => undefined) : undefined
    const error = upstream ? upstreamErrorInfo(providerFormat, status, parsed) : { status, message: 'upstream unreachable', type: 'api_error' }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody(clientFormat, error)))
    return
  }
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(translateResponse(await upstream.json(), providerFormat, clientFormat, info)))
    return
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  const translator = createStreamTranslator(providerFormat, clientFormat, info)
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for await (const chunk of upstream.body as any as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n')
      const cut = buffer.lastIndexOf('\n\n')
      if (cut < 0) continue
      for (const event of parseSSE(buffer.slice(0, cut + 2))) res.write(frameText(translator.push(event)))
      buffer = buffer.slice(cut + 2)
    }
    res.end(frameText(translator.upstreamDone ? translator.end() : translator.error({ status: 502, message: 'upstream stream ended early', type: 'api_error' })))
  } catch {
    res.end(frameText(translator.error({ status: 502, message: 'upstream connection lost', type: 'api_error' })))
  }
}

beforeAll(async () => {
  anthropicMock = await startMockAnthropic({ cacheReadTokens: 10 })
  geminiMock = await startMockGemini({ cachedTokens: 5 })
  proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    const clientFormat: WireFormat = req.url === '/v1/messages' ? 'anthropic-messages' : 'openai-chat'
    const providerFormat = (req.headers['x-test-provider'] as WireFormat) ?? 'anthropic-messages'
    await forward(clientFormat, providerFormat, body, res)
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})

afterAll(async () => {
  proxy?.closeAllConnections()
  await new Promise<void>((r) => proxy?.close(() => r()))
  await anthropicMock?.close()
  await geminiMock?.close()
})

const WEATHER = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'], additionalProperties: false } } }
const TIME = { type: 'function' as const, function: { name: 'get_time', description: 'Time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }

for (const provider of ['anthropic-messages', 'gemini'] as const) {
  describe(`openai SDK -> ${provider}`, () => {
    const client = () => new OpenAI({ baseURL: `${proxyUrl}/v1`, apiKey: 'client-key', maxRetries: 0, defaultHeaders: { 'x-test-provider': provider } })

    it('text, non-stream', async () => {
      const out = await client().chat.completions.create({ model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }] })
      expect(out.choices[0]!.message.content).toMatch(/^Hello from the mock/)
      expect(out.choices[0]!.finish_reason).toBe('stop')
      expect(out.usage!.prompt_tokens).toBeGreaterThan(0)
      expect(out.usage!.prompt_tokens_details!.cached_tokens).toBe(provider === 'gemini' ? 5 : 10)
    })

    it('text, streamed, through finalChatCompletion()', async () => {
      const runner = client().chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'Hello' }], stream_options: { include_usage: true } })
      const final = await runner.finalChatCompletion()
      expect(final.choices[0]!.message.content).toMatch(/^Hello from the mock/)
      expect(final.choices[0]!.finish_reason).toBe('stop')
      expect(final.usage!.completion_tokens).toBeGreaterThan(0)
    })

    it('parallel tools, streamed, through finalChatCompletion(), then the tool results turn', async () => {
      const messages: any[] = [{ role: 'user', content: 'Weather in Paris and Tokyo? MOCK_PARALLEL_TOOLS' }]
      const final = await client().chat.completions.stream({ model: 'm', messages, tools: [WEATHER, TIME] }).finalChatCompletion()
      const calls = final.choices[0]!.message.tool_calls!
      expect(final.choices[0]!.finish_reason).toBe('tool_calls')
      expect(calls.map((c: any) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
        ['get_weather', { city: 'Paris', unit: 'celsius' }],
        ['get_time', { city: 'Tokyo', unit: 'celsius' }],
      ])
      messages.push(final.choices[0]!.message, ...calls.map((c: any) => ({ role: 'tool', tool_call_id: c.id, content: `{"ok":"${c.function.name}"}` })))
      const next = await client().chat.completions.create({ model: 'm', messages, tools: [WEATHER, TIME] })
      expect(next.choices[0]!.message.content).toMatch(/The tool said: .*get_weather.*get_time/)
    })

    it('one tool, non-stream', async () => {
      const out = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'MOCK_TOOL' }], tools: [WEATHER], tool_choice: 'auto' })
      expect(out.choices[0]!.message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } })
    })

    it('an upstream 429 reaches the SDK as RateLimitError in the OpenAI shape', async () => {
      const error: any = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'MOCK_ERROR_429' }] }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.RateLimitError)
      expect(error.error.type).toBe('rate_limit_error')
    })

    it('a stream cut midway ends with an error the SDK raises', async () => {
      const error: any = await client().chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'MOCK_DIE' }] }).finalChatCompletion().catch((e) => e)
      expect(error).toBeInstanceOf(Error)
      expect(String(error.message)).toMatch(/upstream/)
    })
  })
}

describe('anthropic SDK', () => {
  const client = (provider: WireFormat) => new Anthropic({ baseURL: proxyUrl, apiKey: 'client-key', maxRetries: 0, defaultHeaders: { 'x-test-provider': provider } })

  it('-> gemini: text through finalMessage(), usage in Anthropic counters', async () => {
    const message = await client('gemini').messages.stream({ model: 'm', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] }).finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock Gemini upstream.' }])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage.cache_read_input_tokens).toBe(5)
    expect(message.usage.output_tokens).toBeGreaterThan(0)
  })

  it('-> gemini: parallel tools streamed through finalMessage(), then tool results', async () => {
    const tools = [{ name: 'get_weather', description: 'w', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }, { name: 'get_time', description: 't', input_schema: { type: 'object' as const, properties: {} } }]
    const first = await client('gemini').messages.stream({ model: 'm', max_tokens: 100, tools, messages: [{ role: 'user', content: 'MOCK_PARALLEL_TOOLS' }] }).finalMessage()
    expect(first.stop_reason).toBe('tool_use')
    const uses = first.content.filter((b) => b.type === 'tool_use') as any[]
    expect(uses.map((b) => [b.name, b.input])).toEqual([['get_weather', { city: 'Paris', unit: 'celsius' }], ['get_time', { city: 'Tokyo', unit: 'celsius' }]])
    const next = await client('gemini').messages.create({
      model: 'm', max_tokens: 100, tools,
      messages: [
        { role: 'user', content: 'MOCK_PARALLEL_TOOLS' },
        { role: 'assistant', content: first.content as any },
        { role: 'user', content: uses.map((b) => ({ type: 'tool_result' as const, tool_use_id: b.id, content: `done ${b.name}` })) },
      ],
    })
    expect((next.content[0] as any).text).toMatch(/The tool said: .*done get_weather.*done get_time/)
  })

  it('-> gemini: an upstream error reaches the SDK in the Anthropic shape', async () => {
    const error: any = await client('gemini').messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'MOCK_ERROR_503' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error.status).toBe(503)
    expect(error.error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'mock error 503' } })
  })

  it('-> anthropic (same format, passthrough translator): thinking and tools through finalMessage()', async () => {
    const tools = [{ name: 'get_weather', description: 'w', input_schema: { type: 'object' as const, properties: {} } }]
    const message = await client('anthropic-messages').messages.stream({ model: 'm', max_tokens: 100, tools, messages: [{ role: 'user', content: 'MOCK_PARALLEL_TOOLS' }] }).finalMessage()
    expect(message.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use'])
    expect(message.usage).toMatchObject({ cache_read_input_tokens: 10 })
  })

  it('-> anthropic: a mid-stream error event raises in the SDK', async () => {
    const error: any = await client('anthropic-messages').messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'MOCK_STREAM_ERROR' }] }).finalMessage().catch((e) => e)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(String(error.message)).toMatch(/overloaded/i)
  })
})

describe('mocks refuse what the real APIs refuse', () => {
  it('anthropic: missing max_tokens, wrong key, missing version', async () => {
    const post = (headers: Record<string, string>, body: unknown) => fetch(`${anthropicMock.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    const ok = { 'x-api-key': 'test-anthropic-key', 'anthropic-version': '2023-06-01' }
    const noMax = await post(ok, { model: 'm', messages: [{ role: 'user', content: 'x' }] })
    expect(noMax.status).toBe(400)
    expect(await noMax.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } })
    expect((await post({ ...ok, 'x-api-key': 'nope' }, {})).status).toBe(401)
    expect((await post({ 'x-api-key': 'test-anthropic-key' }, { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })).status).toBe(400)
    expect(anthropicMock.requests.at(-1)!.headers['x-api-key']).toBe('test-anthropic-key')
  })

  it('gemini: a key in the URL, unknown fields, and embeddings with the model per item', async () => {
    const base = `${geminiMock.url}/v1beta/models/text-embedding-004`
    const inUrl = await fetch(`${geminiMock.url}/v1beta/models/g:generateContent?key=test-gemini-key`, { method: 'POST', body: '{}' })
    expect(inUrl.status).toBe(400)
    const unknown = await fetch(`${geminiMock.url}/v1beta/models/g:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': 'test-gemini-key' }, body: JSON.stringify({ model: 'g', contents: [{ role: 'user', parts: [{ text: 'x' }] }] }) })
    expect(await unknown.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringContaining('Unknown name "model"') } })
    const embed = setUpstreamModel(translateRequest({ model: 'alias', input: ['a', 'b'] }, 'openai-embeddings', 'gemini-embeddings'), 'gemini-embeddings', 'text-embedding-004')
    const res = await fetch(`${base}:batchEmbedContents`, { method: 'POST', headers: { 'x-goog-api-key': 'test-gemini-key' }, body: JSON.stringify(embed) })
    expect(res.status).toBe(200)
    const out = translateResponse(await res.json(), 'gemini-embeddings', 'openai-embeddings', { model: 'alias', id: 'e1' }) as any
    expect(out.data).toHaveLength(2)
    expect(out.data[0].embedding).toHaveLength(8)
  })

  it('gemini: a stream cut midway leaves the translator not done', async () => {
    const res = await fetch(`${geminiMock.url}/v1beta/models/g:streamGenerateContent?alt=sse`, {
      method: 'POST', headers: { 'x-goog-api-key': 'test-gemini-key' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'MOCK_DIE' }] }] }),
    })
    expect(res.status).toBe(200)
    let text = ''
    const decoder = new TextDecoder()
    await (async () => { for await (const chunk of res.body as any as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true }) })().catch(() => {})
    const t = createStreamTranslator('gemini', 'openai-chat', { model: 'm', id: 'x' })
    const frames = parseSSE(text).flatMap((e) => t.push(e))
    expect(frames.length).toBeGreaterThan(0) // what arrived before the cut was translated
    expect(t.upstreamDone).toBe(false)
    expect(t.push(sse('not json'))).toEqual([])
  })
})
