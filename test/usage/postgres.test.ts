import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../plugins/usage/postgres-store.ts'
import { Recorder } from '../../plugins/usage/recorder.ts'
import { ManualClock, makeRecord, tempDir, testLogger, usage } from './helpers.ts'
import { TcpProxy } from './tcp-proxy.ts'

const url = process.env.DATABASE_URL
if (!url) console.warn('[test/usage/postgres] DATABASE_URL is not set: skipping the Postgres store tests')

describe.skipIf(!url)('Postgres store', () => {
  const schema = `sluice_usage_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  let admin: pg.Client
  let dir: string
  let cleanup: () => void

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url })
    await admin.connect()
  })
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir())
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  })
  afterEach(() => cleanup())

  const count = async () => Number((await admin.query(`SELECT COUNT(*) AS n FROM "${schema}".usage_records`)).rows[0].n)

  it('creates the schema with a version, writes every column, and skips a stored id', async () => {
    const store = createPostgresStore({ url: url!, schema })
    await store.open()
    await store.open()
    const record = makeRecord({ stream: true, usage: usage({ inputTokens: 7, outputTokens: 9, cachedTokens: 2, reasoningTokens: 1, estimated: true }), costUSD: 0.5, tags: { team: 'z' } })
    expect(await store.insert([record])).toBe(1)
    expect(await store.insert([record, makeRecord()])).toBe(1)
    await store.close()
    expect((await admin.query(`SELECT version FROM "${schema}".usage_schema_version ORDER BY version`)).rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }])
    const { rows } = await admin.query(`SELECT * FROM "${schema}".usage_records WHERE id = $1`, [record.id])
    expect(rows[0]).toMatchObject({
      id: record.id, time: String(record.startedAt), principal_id: 'key_a', provider: 'openai', upstream_model: 'gpt-4o',
      api: 'openai-chat', stream: 1, status: 200, outcome: 'ok', input_tokens: '7', output_tokens: '9', cached_tokens: '2',
      reasoning_tokens: '1', estimated: 1, cost_usd: 0.5, latency_ms: 420, ttfb_ms: 120, attempts: 1, tags: { team: 'z' },
    })
    const indexes = (await admin.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1`, [schema])).rows.map((r) => r.indexname)
    expect(indexes).toEqual(expect.arrayContaining(['usage_time_idx', 'usage_principal_time_idx', 'usage_model_time_idx', 'usage_client_request_idx']))
  })

  it('answers grouped usage queries and spend per key', async () => {
    const store = createPostgresStore({ url: url!, schema })
    const day1 = Date.UTC(2025, 10, 1, 23, 59)
    const day2 = Date.UTC(2025, 10, 2, 0, 1)
    await store.insert([
      makeRecord({ startedAt: day1, principalId: 'a', usage: usage({ inputTokens: 10, outputTokens: 1 }), costUSD: 1.5 }),
      makeRecord({ startedAt: day2, principalId: 'a', upstreamModel: 'gpt-4o-mini', usage: usage({ inputTokens: 5, outputTokens: 5 }), costUSD: 0.25, status: 499, outcome: 'client_abort' }),
      makeRecord({ startedAt: day2 + 1, principalId: 'b', usage: usage({ inputTokens: 1, outputTokens: 1 }), costUSD: 2 }),
    ])
    const range = { from: day1, to: day2 + 2 }
    expect(await store.query({ ...range, groupBy: 'key' })).toEqual([
      { group: 'b', requests: 1, inputTokens: 1, outputTokens: 1, costUSD: 2, errors: 0 },
      { group: 'a', requests: 2, inputTokens: 15, outputTokens: 6, costUSD: 1.75, errors: 1 },
    ])
    expect((await store.query({ ...range, groupBy: 'day' })).map((r) => [r.group, r.requests])).toEqual([['2025-11-01', 1], ['2025-11-02', 2]])
    expect((await store.query({ ...range, groupBy: 'model' })).map((r) => r.group)).toEqual(['gpt-4o', 'gpt-4o-mini'])
    expect(await store.spentUSD('a', 0)).toBe(1.75)
    expect(await store.spentUSD('a', day2)).toBe(0.25)
    await store.close()
  })

  it('records through an outage: queue, spill, replay with exact counts', async () => {
    const target = new URL(url!)
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432))
    await proxy.start()
    const viaProxy = new URL(url!)
    viaProxy.port = String(proxy.port)
    const { logger } = testLogger()
    const store = createPostgresStore({ url: viaProxy.toString(), schema, connectTimeoutMs: 2000, logger })
    const spill = join(dir, 'spill.jsonl')
    const recorder = new Recorder({ store, spillFile: spill, queueSize: 20, batchSize: 8, flushIntervalMs: 1000, clock: new ManualClock(), logger })
    await recorder.start()
    for (let i = 0; i < 10; i++) recorder.add(makeRecord())
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ written: 10, storeUp: 1 })

    await proxy.stop() // Postgres unreachable: open connections cut, new ones refused
    for (let i = 0; i < 50; i++) recorder.add(makeRecord())
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ accepted: 60, written: 10, spilled: 40, queued: 10, storeUp: 0, dropped: 0 })
    expect(readFileSync(spill, 'utf8').trim().split('\n')).toHaveLength(40)

    await proxy.start() // back on the same port
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ accepted: 60, written: 20, replayed: 40, spillPending: 0, queued: 0, storeUp: 1, dropped: 0 })
    expect(await count()).toBe(60)
    expect(existsSync(spill)).toBe(false)
    await recorder.close()
    await proxy.stop()
  })

  it('flushes everything on close', async () => {
    const { logger } = testLogger()
    const store = createPostgresStore({ url: url!, schema, logger })
    const recorder = new Recorder({ store, spillFile: join(dir, 'spill.jsonl'), queueSize: 10_000, batchSize: 100, flushIntervalMs: 1000, clock: new ManualClock(), logger })
    await recorder.start()
    for (let i = 0; i < 1234; i++) recorder.add(makeRecord())
    await recorder.close()
    expect(recorder.stats()).toMatchObject({ accepted: 1234, written: 1234, spilled: 0, queued: 0 })
    expect(await count()).toBe(1234)
  })
})
