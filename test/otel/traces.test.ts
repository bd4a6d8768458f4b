/**
 * otel() end to end: the official `openai` client through a gateway with router, retry and breaker over two mock
 * OpenAI upstreams; the spans are read back from a local OTLP/HTTP receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin, type RequestContext, type RequestRecord } from '../../core/index.ts'
import { CLIENT, SERVER, eventually, freshPair, spansOf, startRig, type Rig } from './helpers.ts'

/** What a later plugin (a request log) reads of the trace: `ctx.state.otel.traceId`, by request id. */
const noted = new Map<string, string>()
const traceReader = definePlugin(() => ({
  name: 'trace-reader',
  hooks: { record: (record: RequestRecord, ctx: RequestContext) => { noted.set(record.id, ctx.state.otel?.traceId) } },
}))

let rig: Rig
beforeAll(async () => {
  rig = await startRig({}, { plugins: [traceReader()] })
})
afterAll(async () => {
  await rig?.close()
})

/** The request's server span and its attempt spans, once all of them reached the collector. */
async function tree(requestId: string | null, attempts: number) {
  let found: ReturnType<typeof spansOf> | undefined
  await eventually(() => {
    found = spansOf(rig.collector, requestId)
    expect(found.children).toHaveLength(attempts)
  }, 10_000)
  return found!
}

describe('a request that succeeds at once', () => {
  it('is one SERVER span named by the GenAI conventions, with one CLIENT child per attempt', async () => {
    const { alias, alpha } = freshPair()
    const { data, response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: 'hello there' }], temperature: 0.2, max_tokens: 50 })
      .withResponse()
    expect(data.choices[0]!.message.content).toBe('echo: hello there')
    const { server, children } = await tree(response.headers.get('x-request-id'), 1)

    expect(server.kind).toBe(SERVER)
    expect(server.name).toBe(`chat ${alias}`)
    expect(server.parentSpanId).toBeUndefined()
    expect(server.resource['service.name']).toBe('sluice')
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': alias,
      'gen_ai.provider.name': 'a',
      'gen_ai.response.model': alpha,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.stream': false,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 2,
      'gen_ai.usage.output_tokens': 3,
      'http.request.method': 'POST',
      'url.path': '/v1/chat/completions',
      'http.response.status_code': 200,
      'sluice.attempts': 1,
      'sluice.outcome': 'ok',
    })
    expect(server.attributes['error.type']).toBeUndefined()
    expect(server.status.code ?? 0).toBe(0)

    const [attempt] = children
    expect(attempt!.kind).toBe(CLIENT)
    expect(attempt!.name).toBe(`chat ${alpha}`)
    expect(attempt!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'a',
      'gen_ai.request.model': alpha,
      'gen_ai.response.model': alpha,
      'gen_ai.usage.input_tokens': 2,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(rig.a.url).port),
      'http.response.status_code': 200,
      'sluice.attempt': 1,
    })
    expect(attempt!.startMs).toBeGreaterThanOrEqual(server.startMs)
    expect(attempt!.endMs).toBeLessThanOrEqual(server.endMs)
  })

  it('a stream carries time to first chunk on both spans', async () => {
    const { alias } = freshPair()
    const { data: stream, response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: 'stream please' }], stream: true })
      .withResponse()
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe('echo: stream please')
    const { server, children } = await tree(response.headers.get('x-request-id'), 1)
    expect(server.attributes['gen_ai.request.stream']).toBe(true)
    expect(server.attributes['gen_ai.response.time_to_first_chunk']).toEqual(expect.any(Number))
    expect(server.attributes['gen_ai.response.finish_reasons']).toEqual(['stop'])
    expect(server.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0)
    expect(children[0]!.attributes['gen_ai.response.time_to_first_chunk']).toEqual(expect.any(Number))
    // the client (which did not ask for usage) got none, but the span has it
    expect(children[0]!.attributes['gen_ai.usage.input_tokens']).toBe(2)
  })
})

describe('resilience, as child spans', () => {
  it('a retried request: two attempts on the same target, the first failed with error.type', async () => {
    const { alias, alpha } = freshPair()
    const { response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: `retry me [${alpha} x1: error 500]` }] })
      .withResponse()
    expect(response.headers.get('x-sluice-attempts')).toBe('2')
    const { server, children } = await tree(response.headers.get('x-request-id'), 2)
    const [first, second] = children
    expect(first!.name).toBe(`chat ${alpha}`)
    expect(first!.attributes).toMatchObject({ 'sluice.attempt': 1, 'error.type': '500', 'http.response.status_code': 500, 'sluice.provider': 'a' })
    expect(first!.status.code).toBe(2) // ERROR
    expect(second!.name).toBe(`chat ${alpha}`)
    expect(second!.attributes).toMatchObject({ 'sluice.attempt': 2, 'http.response.status_code': 200, 'gen_ai.response.model': alpha })
    expect(second!.attributes['error.type']).toBeUndefined()
    expect(first!.endMs).toBeLessThanOrEqual(second!.startMs)
    expect(server.attributes).toMatchObject({ 'sluice.attempts': 2, 'http.response.status_code': 200 })
  })

  it('a fallen-back request: the first target failing twice, then the second target answering', async () => {
    const { alias, alpha, beta } = freshPair()
    const { response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: `fall back [${alpha}: error 503]` }] })
      .withResponse()
    expect(response.headers.get('x-sluice-provider')).toBe('b')
    const { server, children } = await tree(response.headers.get('x-request-id'), 3)
    expect(children.map((span) => span.name)).toEqual([`chat ${alpha}`, `chat ${alpha}`, `chat ${beta}`])
    expect(children.map((span) => span.attributes['sluice.provider'])).toEqual(['a', 'a', 'b'])
    expect(children.map((span) => span.attributes['error.type'])).toEqual(['503', '503', undefined])
    expect(children[2]!.attributes).toMatchObject({ 'server.port': Number(new URL(rig.b.url).port), 'gen_ai.response.model': beta, 'gen_ai.usage.output_tokens': expect.any(Number) })
    expect(server.attributes).toMatchObject({ 'gen_ai.provider.name': 'b', 'gen_ai.response.model': beta, 'sluice.attempts': 3 })
  })

  it('a target skipped for an open circuit is named on the server span', async () => {
    const { alias, alpha } = freshPair()
    // Fail alpha until its circuit opens (the breaker's default needs several failures in its window).
    for (let i = 0; i < 12; i++) {
      await rig.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content: `break ${i} [${alpha}: error 500]` }] })
    }
    const { response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: 'after the break' }] })
      .withResponse()
    expect(response.headers.get('x-sluice-provider')).toBe('b')
    const id = response.headers.get('x-request-id')
    await eventually(() => expect(spansOf(rig.collector, id).server.attributes['sluice.skipped_targets']).toEqual([`a/${alpha}`]), 10_000)
    const { children } = await tree(id, 1)
    expect(children[0]!.attributes['sluice.provider']).toBe('b')
  })

  it('without a router, an attempt the breaker refuses is a CLIENT span with error.type circuit_open', async () => {
    const bare = await startRig({}, { router: false })
    try {
      const model = 'a/direct'
      for (let i = 0; i < 12; i++) {
        await bare.client.chat.completions.create({ model, messages: [{ role: 'user', content: `break direct ${i} [error 500]` }] }).catch(() => {})
      }
      const error = await bare.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'refused by the breaker' }] }).catch((e) => e)
      expect(error.status).toBe(503)
      const id = error.headers.get('x-request-id')
      await eventually(() => expect(spansOf(bare.collector, id).children.length).toBeGreaterThan(0), 10_000)
      const { server, children } = spansOf(bare.collector, id)
      expect(children.every((span) => span.attributes['error.type'] === 'circuit_open' && span.status.code === 2)).toBe(true)
      expect(server.attributes).toMatchObject({ 'http.response.status_code': 503, 'sluice.attempts': 0 })
      expect(bare.a.requests.some((r) => JSON.stringify(r.body.messages).includes('refused by the breaker'))).toBe(false)
    } finally {
      await bare.close()
    }
  })

  it('a stream that breaks after its first chunk: the answering attempt and the request are marked failed', async () => {
    const { alias, alpha } = freshPair()
    const { data: stream, response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: `break mid-stream [${alpha}: die]` }], stream: true })
      .withResponse()
    const failure = await (async () => { for await (const _ of stream) { /* drain */ } })().then(() => undefined, (e) => e)
    expect(failure).toBeDefined()
    const { server, children } = await tree(response.headers.get('x-request-id'), 1)
    expect(server.status.code).toBe(2)
    expect(server.attributes['error.type']).toEqual(expect.any(String))
    expect(children[0]!.attributes['error.type']).toBe(server.attributes['error.type'])
    expect(children[0]!.status.code).toBe(2)
    expect(children[0]!.attributes['gen_ai.response.time_to_first_chunk']).toEqual(expect.any(Number))
  })

  it('an upstream error that reaches the client marks both spans', async () => {
    const { alias, alpha, beta } = freshPair()
    const error = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: `no luck [${alpha}: error 500] [${beta}: error 500]` }] })
      .withResponse()
      .catch((e) => e)
    expect(error.status).toBe(500)
    await eventually(() => expect(rig.collector.spans.some((s) => s.kind === SERVER && s.attributes['http.response.status_code'] === 500 && s.name === `chat ${alias}`)).toBe(true), 10_000)
    const server = rig.collector.spans.find((s) => s.kind === SERVER && s.name === `chat ${alias}`)!
    expect(server.attributes['error.type']).toBe(server.attributes['sluice.outcome'])
    expect(server.attributes['error.type']).not.toBe('ok')
    expect(server.status.code).toBe(2)
    expect(server.attributes['gen_ai.response.model']).toBeUndefined()
    const children = rig.collector.spans.filter((s) => s.parentSpanId === server.spanId)
    await eventually(() => expect(rig.collector.spans.filter((s) => s.parentSpanId === server.spanId)).toHaveLength(4), 10_000)
    expect(children.every((s) => s.attributes['error.type'] === '500')).toBe(true)
  })
})

describe('W3C trace context', () => {
  const clientTrace = '0af7651916cd43dd8448eb211c80319c'
  const clientSpan = 'b7ad6b7169203331'

  it.each([false, true])('joins the client\'s trace and sends each attempt\'s own traceparent upstream (stream: %s)', async (stream) => {
    const { alias, alpha } = freshPair()
    const headers = { traceparent: `00-${clientTrace}-${clientSpan}-01`, tracestate: 'vendor=opaque' }
    const content = `traced ${stream} [${alpha} x1: error 500]`
    const request = rig.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content }], stream }, { headers })
    const { data, response } = await request.withResponse()
    if (stream) for await (const _ of data as AsyncIterable<unknown>) { /* drain */ }
    const { server, children } = await tree(response.headers.get('x-request-id'), 2)

    expect(server.traceId).toBe(clientTrace)
    expect(server.parentSpanId).toBe(clientSpan)
    expect(noted.get(response.headers.get('x-request-id')!)).toBe(clientTrace)
    expect(children.every((span) => span.traceId === clientTrace)).toBe(true)

    const seen = rig.a.requests.filter((r) => JSON.stringify(r.body.messages).includes(content))
    expect(seen).toHaveLength(2)
    for (const [i, upstream] of seen.entries()) {
      const [version, traceId, parentId, flags] = String(upstream.headers.traceparent).split('-')
      expect(version).toBe('00')
      expect(traceId).toBe(clientTrace)
      expect(parentId).toBe(children[i]!.spanId)
      expect(flags).toBe('01')
      expect(upstream.headers.tracestate).toBe('vendor=opaque')
      // the provider's own auth is still what goes upstream
      expect(upstream.headers.authorization).toBe('Bearer sk-test-upstream-a-000000')
    }
  })

  it('without a client traceparent the server span starts a trace, and the upstream still gets one', async () => {
    const { alias, alpha } = freshPair()
    const content = 'untraced client'
    const { response } = await rig.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content }] }).withResponse()
    const { server, children } = await tree(response.headers.get('x-request-id'), 1)
    expect(server.parentSpanId).toBeUndefined()
    const upstream = rig.a.requests.find((r) => r.body.model === alpha)!
    expect(upstream.headers.traceparent).toBe(`00-${server.traceId}-${children[0]!.spanId}-01`)
  })

  it('a client trace marked not sampled records nothing but still propagates', async () => {
    const { alias, alpha } = freshPair()
    const unsampled = '11111111111111111111111111111111'
    const { response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'user', content: 'quiet please' }] }, { headers: { traceparent: `00-${unsampled}-${clientSpan}-00` } })
      .withResponse()
    expect(response.status).toBe(200)
    const upstream = rig.a.requests.find((r) => r.body.model === alpha)!
    expect(String(upstream.headers.traceparent)).toMatch(new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`))
    // A sampled request after it: once its spans have arrived, anything queued before them has too (FIFO).
    const after = freshPair()
    const { response: later } = await rig.client.chat.completions.create({ model: after.alias, messages: [{ role: 'user', content: 'sampled' }] }).withResponse()
    await tree(later.headers.get('x-request-id'), 1)
    expect(rig.collector.spans.some((span) => span.traceId === unsampled)).toBe(false)
    expect(rig.collector.spans.some((span) => span.attributes['sluice.request_id'] === response.headers.get('x-request-id'))).toBe(false)
  })
})

describe('requests that make no attempt', () => {
  it('a request refused before any attempt (unknown model) is one SERVER span with error.type and no children', async () => {
    const error = await rig.client.chat.completions.create({ model: 'nobody/nothing', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
    expect(error.status).toBe(404)
    await eventually(() => expect(rig.collector.spans.some((s) => s.kind === SERVER && s.name === 'chat nobody/nothing')).toBe(true), 10_000)
    const server = rig.collector.spans.find((s) => s.kind === SERVER && s.name === 'chat nobody/nothing')!
    expect(server.attributes).toMatchObject({ 'http.response.status_code': 404, 'error.type': 'invalid_request_error', 'sluice.attempts': 0 })
    expect(server.status.code ?? 0).toBe(0) // a 4xx is not the server's failure
    expect(rig.collector.spans.filter((s) => s.parentSpanId === server.spanId)).toHaveLength(0)
  })
})

describe('other clients', () => {
  it('an Anthropic SDK client through the same alias: a chat span with the answer\'s usage and finish reason', async () => {
    const { default: Anthropic } = await import('@anthropic-ai/sdk')
    const claude = new Anthropic({ baseURL: rig.gw.url, apiKey: 'unused', fetch: rig.gw.fetch, maxRetries: 0 })
    const { alias, alpha } = freshPair()
    const { data, response } = await claude.messages.create({ model: alias, max_tokens: 64, messages: [{ role: 'user', content: 'from claude' }] }).withResponse()
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'echo: from claude' })
    const { server, children } = await tree(response.headers.get('x-request-id'), 1)
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'url.path': '/v1/messages',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 2,
    })
    expect(children[0]!.attributes['gen_ai.request.model']).toBe(alpha)
  })
})
