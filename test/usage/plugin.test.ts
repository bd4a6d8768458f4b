import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../core/errors.ts'
import { sseEvent } from '../../core/sse.ts'
import type { RequestContext } from '../../core/types.ts'
import { usage as usagePlugin } from '../../plugins/usage/index.ts'
import { resolveUsageOptions } from '../../plugins/usage/options.ts'
import { countTextTokens } from '../../plugins/usage/tokens.ts'
import { ManualClock, makeContext, makeRecord, readUntil, recordFrom, settle, startPlugins, tempDir, usage } from './helpers.ts'

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
  const start = (options: Parameters<typeof usagePlugin>[0] = {}) => startPlugins([
    usagePlugin({ sqlite: { file: join(dir, 'usage.db') }, spillFile: join(dir, 'spill.jsonl'), flushIntervalMs: 60_000, ...options }),
  ])

  it('provides pricing, spend and recorder, and records each request with its cost', async () => {
    const gw = await start()
    const pricing = gw.inject('pricing')!
    const recorder = gw.inject('recorder')!
    expect(pricing.price('openai', 'gpt-4o-2024-08-06')).toEqual(pricing.price('openai', 'gpt-4o'))
    const record = makeRecord({ usage: usage({ inputTokens: 1000, outputTokens: 100 }) })
    record.costUSD = pricing.cost(record.provider!, record.upstreamModel!, record.usage) // as the core does
    await gw.record(record, makeContext())
    expect(recorder.stats()).toMatchObject({ accepted: 1, queued: 1 })
    await gw.stop() // teardown flushes
    const db = new Database(join(dir, 'usage.db'), { readonly: true })
    const row = db.prepare('SELECT * FROM usage_records').get() as any
    db.close()
    expect(row).toMatchObject({ id: record.id, input_tokens: 1000, output_tokens: 100, estimated: 0 })
    expect(row.cost_usd).toBeCloseTo(1000 * 2.5e-6 + 100 * 10e-6, 12)
  })

  it('estimates a stream with no provider usage per event and prices the estimate', async () => {
    const gw = await start()
    const ctx = makeContext({ stream: true, attempts: 1, target: { provider: 'openai', model: 'gpt-4o' }, firstByteAt: Date.UTC(2025, 10, 20, 12, 0, 0) + 50 })
    const [transform] = gw.streamTransforms(ctx)
    const pieces = ['The sluice', ' gate opens', ' at dawn.']
    for (const piece of pieces) transform!(sseEvent(JSON.stringify({ choices: [{ index: 0, delta: { content: piece } }] })), ctx)
    const record = recordFrom(ctx, 200, 'ok')
    record.costUSD = 0
    await gw.record(record, ctx)
    const output = pieces.reduce((sum, p) => sum + countTextTokens(p), 0)
    const input = countTextTokens('user') + countTextTokens('Say hello.') + 4
    expect(record.usage).toEqual(usage({ inputTokens: input, outputTokens: output, estimated: true }))
    expect(record.costUSD).toBeCloseTo(input * 2.5e-6 + output * 10e-6, 12)
    await gw.stop()
  })

  it('records a client abort with the tokens seen so far', async () => {
    const gw = await start()
    const ctx = makeContext({ api: 'anthropic-messages', stream: true, attempts: 1, target: { provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' } })
    const [transform] = gw.streamTransforms(ctx)
    ctx.usage.inputTokens = 25 // what message_start reported
    ctx.usage.outputTokens = 1
    transform!(sseEvent(JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Once upon a time, in a land far away' } }), 'content_block_delta'), ctx)
    const record = recordFrom(ctx, 499, 'client_abort')
    await gw.record(record, ctx)
    expect(record.usage).toMatchObject({ inputTokens: 25, outputTokens: countTextTokens('Once upon a time, in a land far away'), estimated: true })
    expect(record.costUSD).toBeCloseTo(25 * 3e-6 + record.usage.outputTokens * 15e-6, 12)
    await gw.stop()
  })

  it('records refused requests at zero tokens and zero cost', async () => {
    const gw = await start()
    const ctx = makeContext()
    const record = recordFrom(ctx, 429, 'rate_limit_error')
    await gw.record(record, ctx)
    expect(record.usage).toEqual(usage())
    expect(gw.inject('recorder')!.stats().accepted).toBe(1)
    await gw.stop()
  })

  it('serves spend at once from the running total, then from the store, without counting twice', async () => {
    const gw = await start()
    const spend = gw.inject('spend')!
    const since = Date.UTC(2025, 10, 1)
    expect(await spend.spentUSD('key_a', since)).toBe(0)
    await gw.record(makeRecord({ costUSD: 1.25 }), makeContext())
    await gw.record(makeRecord({ costUSD: 0.5 }), makeContext())
    await gw.record(makeRecord({ costUSD: 9, principalId: 'key_b' }), makeContext())
    expect(await spend.spentUSD('key_a', since)).toBe(1.75) // nothing written yet
    const recorder = gw.inject('recorder')!
    expect(recorder.stats().written).toBe(0)
    await gw.stop()
    const again = await start()
    expect(await again.inject('spend')!.spentUSD('key_a', since)).toBe(1.75) // a fresh process reads the store
    await again.record(makeRecord({ costUSD: 0.25 }), makeContext())
    expect(await again.inject('spend')!.spentUSD('key_a', since)).toBe(2)
    await again.stop()
  })

  it('answers GET /admin/usage grouped, behind the admin key, with clear errors for bad input', async () => {
    const gw = await start()
    const base = Date.UTC(2025, 10, 20)
    for (const [principalId, cost] of [['a', 1], ['a', 2], ['b', 4]] as const) {
      await gw.record(makeRecord({ principalId, costUSD: cost, startedAt: base + 1000 }), makeContext())
    }
    await gw.record(makeRecord({ principalId: 'b', status: 502, outcome: 'api_error', costUSD: 0, startedAt: base + 2000 }), makeContext())
    // The writer runs on its own schedule (a partial batch waits flushIntervalMs); the admin API reads the store.
    const recorder = gw.inject('recorder')!
    ;(gw.clock as ManualClock).advance(60_000)
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
    await gw.stop()
  })

  it('streams each finished record on GET /admin/events', async () => {
    const gw = await start()
    const response = await gw.adminRequest('/admin/events')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const record = makeRecord()
    await gw.record(record, makeContext())
    const { text, reader } = await readUntil(response.body!, (t) => t.includes('event: record') && t.endsWith('\n\n'))
    expect(text).toMatch(/^: connected\n\nevent: record\nid: /)
    expect(JSON.parse(text.split('data: ')[1]!.trim())).toMatchObject({ id: record.id, status: 200 })
    await reader.cancel()
    await gw.stop()
  })
})
