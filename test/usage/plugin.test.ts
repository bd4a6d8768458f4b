import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { ConfigError, GatewayError } from '../../core/errors.ts'
import type { SluicePlugin, StreamDelta } from '../../core/types.ts'
import { createTestGateway, scriptedProvider } from '../../testing/index.ts'
import { usage as usagePlugin } from '../../plugins/usage/index.ts'
import { resolveUsageOptions } from '../../plugins/usage/options.ts'
import { countTextTokens } from '../../plugins/usage/tokens.ts'
import { deltaProvider, ManualClock, openaiChunks, readUntil, serviceOf, settle, sseProvider, startPlugins, tempDir, textDeltas, usage, type FinishedRequest } from './helpers.ts'

let dir: string
let cleanup: () => void
beforeEach(() => ({ dir, cleanup } = tempDir()))
afterEach(() => cleanup())

const configError = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    expect(ConfigError.is(error)).toBe(true)
    return (error as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('usage() options', () => {
  it('refuses unknown keys, bad prices and a Postgres store without a URL, in one line naming the key', () => {
    expect(configError(() => usagePlugin({ bogus: 1 } as any))).toBe('usage: unknown option "bogus"')
    expect(configError(() => usagePlugin({ prices: { 'gpt-4o': { input: -1, output: 1 } } }))).toMatch(/^usage: option "prices.gpt-4o.input"/)
    expect(configError(() => usagePlugin({ prices: { 'gpt-4o': { input: 1, output: 1, cached: 1 } as any } }))).toBe('usage: unknown option "prices.gpt-4o.cached"')
    expect(configError(() => resolveUsageOptions({ store: 'postgres' }, {}))).toMatch(/postgres\.url" is required/)
    expect(configError(() => usagePlugin({ postgres: { schema: 'Bad-Name' }, store: 'postgres' }))).toMatch(/postgres\.schema/)
  })

  it('defaults to SQLite under .sluice and takes DATABASE_URL for Postgres', () => {
    expect(resolveUsageOptions({}, {})).toMatchObject({ store: 'sqlite', sqliteFile: '.sluice/usage.db', spillFile: '.sluice/usage-spill.jsonl' })
    expect(resolveUsageOptions({ store: 'postgres' }, { DATABASE_URL: 'postgres://u:secret@db/x' }).postgres?.url).toBe('postgres://u:secret@db/x')
    const plugin = usagePlugin({ postgres: { url: 'postgres://u:secret@db/x' } })
    expect(JSON.stringify(plugin.options)).not.toContain('secret')
  })
})

describe('usage() plugin', () => {
  const options = (): Parameters<typeof usagePlugin>[0] => ({ sqlite: { file: join(dir, 'usage.db') }, spillFile: join(dir, 'spill.jsonl'), flushIntervalMs: 60_000 })
  const start = () => startPlugins([usagePlugin(options())])
  /** A real gateway (the core's pipeline) with `plugins` and usage(); closed when the test ends. */
  const gatewayWith = async (...plugins: SluicePlugin[]) => {
    const gateway = await createTestGateway({ plugins: [...plugins, usagePlugin(options())] })
    onTestFinished(() => gateway.close())
    return gateway
  }
  const hello = (extra: Record<string, unknown> = {}) => ({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Say hello.' }], ...extra })
  const promptEstimate = countTextTokens('user') + countTextTokens('Say hello.') + 4

  it('provides pricing, usageEstimator, spend and recorder, and stores each request with the cost the core priced', async () => {
    const gateway = await gatewayWith(scriptedProvider({ name: 'openai', models: ['gpt-4o'], replies: [{ text: 'Hello!', usage: { inputTokens: 1000, outputTokens: 100 } }] }))
    const pricing = serviceOf(gateway, 'pricing')
    expect(pricing.price('openai', 'gpt-4o-2024-08-06')).toEqual(pricing.price('openai', 'gpt-4o'))
    expect(serviceOf(gateway, 'usageEstimator')).toBeDefined()
    expect((await gateway.chat(hello())).status).toBe(200)
    const [record] = await gateway.waitForRecords(1)
    expect(record!.usage).toEqual(usage({ inputTokens: 1000, outputTokens: 100 }))
    expect(record!.costUSD).toBeCloseTo(1000 * 2.5e-6 + 100 * 10e-6, 12)
    expect(serviceOf(gateway, 'recorder').stats()).toMatchObject({ accepted: 1, queued: 1 })
    await gateway.close() // teardown flushes
    const db = new Database(join(dir, 'usage.db'), { readonly: true })
    const row = db.prepare('SELECT * FROM usage_records').get() as any
    db.close()
    expect(row).toMatchObject({ id: record!.id, input_tokens: 1000, output_tokens: 100, estimated: 0 })
    expect(row.cost_usd).toBeCloseTo(record!.costUSD!, 12)
  })

  const pieces = ['The sluice', ' gate opens', ' at dawn.']
  it.each([
    ['in the neutral view (translated for the client)', () => deltaProvider({ name: 'openai', deltas: textDeltas(pieces) })],
    ['as SSE bytes in the client\'s format (passed through)', () => sseProvider('openai', openaiChunks(pieces))],
  ])('estimates a stream whose provider reports no usage, %s, from the deltas it saw; the core prices the estimate', async (_, provider) => {
    const gateway = await gatewayWith(provider())
    const response = await gateway.chat(hello({ stream: true }))
    expect(await response.text()).toContain('gate opens')
    const [record] = await gateway.waitForRecords(1)
    const output = countTextTokens(pieces.join(''))
    expect(record!.usage).toEqual(usage({ inputTokens: promptEstimate, outputTokens: output, estimated: true }))
    expect(record!.costUSD).toBeCloseTo(promptEstimate * 2.5e-6 + output * 10e-6, 12)
  })

  it("estimates nothing when the provider's usage arrives in the stream", async () => {
    const gateway = await gatewayWith(scriptedProvider({ name: 'openai', models: ['gpt-4o'], replies: [{ text: 'The sluice gate opens at dawn.', usage: { inputTokens: 11, outputTokens: 7 } }] }))
    await (await gateway.chat(hello({ stream: true }))).text()
    const [record] = await gateway.waitForRecords(1)
    expect(record!.usage).toEqual(usage({ inputTokens: 11, outputTokens: 7 }))
    expect(record!.costUSD).toBeCloseTo(11 * 2.5e-6 + 7 * 10e-6, 12)
  })

  it('records a client abort with the tokens seen so far', async () => {
    const story = 'Once upon a time, in a land far away'
    // Anthropic reports input (and one output token) at the start, the rest only at the end, which never comes
    const deltas: StreamDelta[] = [{ type: 'start', id: 'msg_1', usage: { inputTokens: 25, outputTokens: 1 } }, { type: 'text', text: story }]
    const gateway = await gatewayWith(deltaProvider({ name: 'anthropic', format: 'anthropic-messages', deltas, thenHang: true }))
    const client = new AbortController()
    const response = await gateway.fetch('/v1/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/claude-sonnet-4-5-20250929', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
      signal: client.signal,
    })
    const { reader } = await readUntil(response.body!, (text) => text.includes('far away'))
    client.abort(new DOMException('the client went away', 'AbortError'))
    await reader.cancel()
    const [record] = await gateway.waitForRecords(1)
    expect(record).toMatchObject({ status: 499, outcome: 'client_abort' })
    expect(record!.usage).toMatchObject({ inputTokens: 25, outputTokens: countTextTokens(story), estimated: true })
    expect(record!.costUSD).toBeCloseTo(25 * 3e-6 + countTextTokens(story) * 15e-6, 12)
  })

  it('records refused requests at zero tokens, without a price', async () => {
    const refuse: SluicePlugin = { name: 'refuse', hooks: { limit: () => { throw new GatewayError(429, 'slow down', { type: 'rate_limit_error' }) } } }
    const gateway = await gatewayWith(scriptedProvider({ name: 'openai' }), refuse)
    expect((await gateway.chat(hello())).status).toBe(429)
    const [record] = await gateway.waitForRecords(1)
    expect(record).toMatchObject({ status: 429, outcome: 'rate_limit_error', attempts: 0, provider: undefined })
    expect(record!.usage).toEqual(usage())
    expect(record!.costUSD).toBeUndefined()
    expect(serviceOf(gateway, 'recorder').stats().accepted).toBe(1)
  })

  it('serves spend at once from the running total, then from the store, without counting twice', async () => {
    const keyA = { principal: { id: 'key_a' } }
    const gw = await start()
    const spend = gw.inject('spend')!
    const since = gw.clock.now() - 86_400_000
    expect(await spend.spentUSD('key_a', since)).toBe(0)
    await gw.finishRequest({ ...keyA, costUSD: 1.25 })
    await gw.finishRequest({ ...keyA, costUSD: 0.5 })
    await gw.finishRequest({ principal: { id: 'key_b' }, costUSD: 9 })
    expect(await spend.spentUSD('key_a', since)).toBe(1.75) // nothing written yet
    expect(gw.inject('recorder')!.stats().written).toBe(0)
    await gw.close()
    const again = await start()
    expect(await again.inject('spend')!.spentUSD('key_a', since)).toBe(1.75) // a fresh process reads the store
    await again.finishRequest({ ...keyA, costUSD: 0.25 })
    expect(await again.inject('spend')!.spentUSD('key_a', since)).toBe(2)
  })

  it('answers GET /admin/usage grouped, behind the admin key, with clear errors for bad input', async () => {
    const clock = new ManualClock()
    const gw = await startPlugins([usagePlugin(options())], { clock })
    const base = Date.UTC(2025, 10, 20)
    const request = (principalId: string, costUSD: number, more: FinishedRequest = {}) =>
      gw.finishRequest({ principal: { id: principalId }, target: { provider: 'openai', model: 'gpt-4o' }, usage: { inputTokens: 100, outputTokens: 50 }, costUSD, ...more })
    clock.time = base + 1000
    for (const [principalId, cost] of [['a', 1], ['a', 2], ['b', 4]] as const) await request(principalId, cost)
    clock.time = base + 2000
    await request('b', 0, { status: 502, outcome: 'api_error' })
    // The writer runs on its own schedule (a partial batch waits flushIntervalMs); the admin API reads the store.
    const recorder = gw.inject('recorder')!
    clock.advance(60_000)
    await settle(() => recorder.stats().written === 4)
    const response = await gw.adminRequest(`/admin/usage?groupBy=key&from=${base}&to=${base + 86_400_000}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      from: new Date(base).toISOString(), to: new Date(base + 86_400_000).toISOString(), groupBy: 'key',
      rows: [
        { group: 'b', requests: 2, inputTokens: 200, outputTokens: 100, costUSD: 4, errors: 1 },
        { group: 'a', requests: 2, inputTokens: 200, outputTokens: 100, costUSD: 3, errors: 0 },
      ],
    })
    const byDay = await (await gw.adminRequest(`/admin/usage?groupBy=day&from=2025-11-20&to=2025-11-21`)).json()
    expect(byDay.rows).toEqual([{ group: '2025-11-20', requests: 4, inputTokens: 400, outputTokens: 200, costUSD: 7, errors: 1 }])
    const unauth = await gw.app.request('/admin/usage')
    expect(unauth.status).toBe(401)
    const bad = await gw.adminRequest('/admin/usage?groupBy=color')
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.message).toBe('groupBy must be one of key, model, provider, day')
    expect((await gw.adminRequest('/admin/usage?from=yesterday')).status).toBe(400)
  })

  it('streams each finished record on GET /admin/events', async () => {
    const gw = await start()
    const response = await gw.adminRequest('/admin/events')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const record = await gw.finishRequest({ target: { provider: 'openai', model: 'gpt-4o' }, costUSD: 0.001 })
    const { text, reader } = await readUntil(response.body!, (t) => t.includes('event: record') && t.endsWith('\n\n'))
    expect(text).toMatch(/^: connected\n\nevent: record\nid: /)
    expect(JSON.parse(text.split('data: ')[1]!.trim())).toMatchObject({ id: record.id, status: 200, costUSD: 0.001 })
    await reader.cancel()
  })
})
