import { readFileSync, existsSync, writeFileSync, rmSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Recorder } from '../../plugins/usage/recorder.ts'
import { createSqliteStore } from '../../plugins/usage/sqlite-store.ts'
import { ManualClock, makeRecord, tempDir, testLogger, usage } from './helpers.ts'

let dir: string
let cleanup: () => void
beforeEach(() => ({ dir, cleanup } = tempDir()))
afterEach(() => cleanup())

function recorderFor(file: string, options: Partial<ConstructorParameters<typeof Recorder>[0]> = {}) {
  const clock = new ManualClock()
  const { logger, logs } = testLogger()
  const store = createSqliteStore({ file, busyTimeoutMs: 0 })
  const recorder = new Recorder({
    store, clock, logger, spillFile: join(dir, 'spill.jsonl'), queueSize: 1000, batchSize: 50, flushIntervalMs: 1000, ...options,
  })
  return { recorder, store, clock, logs }
}

const rowsOf = (file: string) => {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT * FROM usage_records ORDER BY time').all() as any[]
  } finally {
    db.close()
  }
}

const spillLines = (file: string) => existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0

describe('SQLite store', () => {
  it('creates the schema once, in WAL mode, with a schema version', async () => {
    const file = join(dir, 'nested', 'usage.db')
    const store = createSqliteStore({ file })
    await store.open()
    await store.close()
    await store.open() // migrating again is a no-op
    await store.close()
    const db = new Database(file, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.prepare('SELECT version FROM usage_schema_version').all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }])
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_records'").all() as any[]).map((r) => r.name)
    expect(indexes).toEqual(expect.arrayContaining(['usage_time_idx', 'usage_principal_time_idx', 'usage_model_time_idx', 'usage_client_request_idx']))
    db.close()
  })

  it('writes every column of a record, and skips an id already stored', async () => {
    const file = join(dir, 'usage.db')
    const store = createSqliteStore({ file })
    const record = makeRecord({
      stream: true, usage: usage({ inputTokens: 120, outputTokens: 80, cachedTokens: 20, reasoningTokens: 10, estimated: true }),
      costUSD: 0.0123, ttfbMs: 95, attempts: 2, status: 200, tags: { team: 'x', project: 'y' },
    })
    expect(await store.insert([record])).toBe(1)
    expect(await store.insert([record])).toBe(0)
    await store.close()
    const [row] = rowsOf(file)
    expect(row).toEqual({
      id: record.id, time: record.startedAt, ended_at: record.endedAt, principal_id: 'key_a', principal_name: 'team a',
      requested_model: 'openai/gpt-4o', provider: 'openai', upstream_model: 'gpt-4o', api: 'openai-chat', stream: 1,
      status: 200, outcome: 'ok', error_message: null, input_tokens: 120, output_tokens: 80, cached_tokens: 20,
      reasoning_tokens: 10, estimated: 1, cost_usd: 0.0123, latency_ms: 420, ttfb_ms: 95, attempts: 2,
      tags: JSON.stringify({ team: 'x', project: 'y' }), client_request_id: null, cached: 0, saved_usd: 0,
    })
  })

  it('answers usage queries grouped by key, model, provider and day, and spend per key', async () => {
    const store = createSqliteStore({ file: join(dir, 'usage.db') })
    const day1 = Date.UTC(2025, 10, 1, 10)
    const day2 = Date.UTC(2025, 10, 2, 10)
    await store.insert([
      makeRecord({ startedAt: day1, principalId: 'a', provider: 'openai', upstreamModel: 'gpt-4o', usage: usage({ inputTokens: 10, outputTokens: 1 }), costUSD: 1 }),
      makeRecord({ startedAt: day1 + 1, principalId: 'a', provider: 'anthropic', upstreamModel: 'claude-sonnet-4-5', usage: usage({ inputTokens: 20, outputTokens: 2 }), costUSD: 2 }),
      makeRecord({ startedAt: day2, principalId: 'b', provider: 'openai', upstreamModel: 'gpt-4o', usage: usage({ inputTokens: 30, outputTokens: 3 }), costUSD: 4, status: 502, outcome: 'api_error' }),
      makeRecord({ startedAt: day2 + 1, principalId: undefined, provider: undefined, upstreamModel: undefined, requestedModel: 'nope', usage: usage(), costUSD: 0, status: 401, outcome: 'authentication_error' }),
    ])
    const range = { from: day1, to: day2 + 10 }
    expect(await store.query({ ...range, groupBy: 'key' })).toEqual([
      { group: 'b', requests: 1, inputTokens: 30, outputTokens: 3, costUSD: 4, errors: 1 },
      { group: 'a', requests: 2, inputTokens: 30, outputTokens: 3, costUSD: 3, errors: 0 },
      { group: '(none)', requests: 1, inputTokens: 0, outputTokens: 0, costUSD: 0, errors: 1 },
    ])
    expect(await store.query({ ...range, groupBy: 'model' })).toEqual([
      { group: 'gpt-4o', requests: 2, inputTokens: 40, outputTokens: 4, costUSD: 5, errors: 1 },
      { group: 'claude-sonnet-4-5', requests: 1, inputTokens: 20, outputTokens: 2, costUSD: 2, errors: 0 },
      { group: 'nope', requests: 1, inputTokens: 0, outputTokens: 0, costUSD: 0, errors: 1 },
    ])
    expect((await store.query({ ...range, groupBy: 'provider' })).map((r) => [r.group, r.requests])).toEqual([['openai', 2], ['anthropic', 1], ['(none)', 1]])
    expect((await store.query({ ...range, groupBy: 'day' })).map((r) => [r.group, r.requests, r.costUSD])).toEqual([['2025-11-01', 2, 3], ['2025-11-02', 2, 4]])
    expect(await store.query({ from: day2, to: day2 + 1, groupBy: 'key' })).toEqual([{ group: 'b', requests: 1, inputTokens: 30, outputTokens: 3, costUSD: 4, errors: 1 }])
    expect(await store.spentUSD('a', 0)).toBe(3)
    expect(await store.spentUSD('a', day1 + 1)).toBe(2)
    expect(await store.spentUSD('nobody', 0)).toBe(0)
    await store.close()
  })
})

describe('recorder on SQLite', () => {
  it('writes records in batches and counts them', async () => {
    const file = join(dir, 'usage.db')
    const { recorder, store } = recorderFor(file, { batchSize: 7 })
    await recorder.start()
    for (let i = 0; i < 30; i++) recorder.add(makeRecord())
    expect(recorder.stats()).toMatchObject({ accepted: 30, queued: 30, written: 0 })
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ accepted: 30, queued: 0, written: 30, spilled: 0, failedBatches: 0, storeUp: 1 })
    expect(await store.count()).toBe(30)
    await recorder.close()
  })

  it('writes a partial batch once the flush interval passes', async () => {
    const { recorder, store, clock } = recorderFor(join(dir, 'usage.db'), { batchSize: 100, flushIntervalMs: 500 })
    await recorder.start()
    recorder.add(makeRecord())
    recorder.add(makeRecord())
    expect(clock.pending).toBe(1)
    clock.advance(500)
    await new Promise((resolve) => setImmediate(resolve))
    await recorder.flush()
    expect(recorder.stats().written).toBe(2)
    expect(await store.count()).toBe(2)
    await recorder.close()
  })

  it('queues while the store is down, spills past the bound, and replays exactly once it is back', async () => {
    // The database's directory is blocked by a plain file: opening fails until the test removes it.
    const blocker = join(dir, 'db')
    writeFileSync(blocker, 'not a directory')
    const file = join(blocker, 'usage.db')
    const spill = join(dir, 'spill.jsonl')
    const { recorder, logs } = recorderFor(file, { queueSize: 10, batchSize: 4 })
    await recorder.start()
    expect(recorder.stats().storeUp).toBe(0)

    for (let i = 0; i < 25; i++) recorder.add(makeRecord())
    await recorder.flush() // tries the store, fails, leaves the rest queued
    expect(recorder.stats()).toMatchObject({ accepted: 25, spilled: 20, queued: 5, written: 0, spillPending: 20, dropped: 0 })
    expect(recorder.stats().failedBatches).toBeGreaterThanOrEqual(1)
    expect(spillLines(spill)).toBe(20)
    expect(logs.some((l) => l.type === 'warn' && String(l.args[0]).includes('usage store unavailable'))).toBe(true)

    rmSync(blocker)
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ accepted: 25, written: 5, replayed: 20, spilled: 20, spillPending: 0, queued: 0, storeUp: 1, dropped: 0 })
    expect(rowsOf(file)).toHaveLength(25)
    expect(readdirSync(dir).filter((name) => name.startsWith('spill.jsonl'))).toEqual([])
    await recorder.close()
  })

  it('treats a locked database as an outage instead of blocking, then recovers', async () => {
    const file = join(dir, 'usage.db')
    const { recorder } = recorderFor(file, { queueSize: 5, batchSize: 5 })
    await recorder.start()
    const other = new Database(file)
    other.exec('BEGIN EXCLUSIVE')
    for (let i = 0; i < 12; i++) recorder.add(makeRecord())
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ written: 0, spilled: 10, queued: 2, storeUp: 0 })
    other.exec('COMMIT')
    other.close()
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ written: 2, replayed: 10, queued: 0, storeUp: 1 })
    expect(rowsOf(file)).toHaveLength(12)
    await recorder.close()
  })

  it('flushes everything on close', async () => {
    const file = join(dir, 'usage.db')
    const { recorder } = recorderFor(file, { batchSize: 16 })
    await recorder.start()
    for (let i = 0; i < 100; i++) recorder.add(makeRecord())
    await recorder.close()
    expect(recorder.stats()).toMatchObject({ accepted: 100, written: 100, queued: 0 })
    expect(rowsOf(file)).toHaveLength(100)
  })

  it('spills everything on close when the store is down, and the next run replays it', async () => {
    const blocker = join(dir, 'db')
    writeFileSync(blocker, '')
    const file = join(blocker, 'usage.db')
    const spill = join(dir, 'spill.jsonl')
    const first = recorderFor(file)
    await first.recorder.start()
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      const record = makeRecord()
      ids.push(record.id)
      first.recorder.add(record)
    }
    await first.recorder.close()
    expect(first.recorder.stats()).toMatchObject({ accepted: 40, written: 0, spilled: 40, queued: 0, dropped: 0 })
    expect(spillLines(spill)).toBe(40)
    // A record that arrives after shutdown is spilled too, not lost.
    first.recorder.add(makeRecord())
    expect(spillLines(spill)).toBe(41)

    rmSync(blocker)
    const second = recorderFor(file)
    await second.recorder.start()
    await second.recorder.flush()
    expect(second.recorder.stats()).toMatchObject({ replayed: 41, written: 0, corrupt: 0 })
    const stored = rowsOf(file).map((row) => row.id)
    expect(stored).toHaveLength(41)
    expect(stored).toEqual(expect.arrayContaining(ids))
    await second.recorder.close()
  })

  it('replays idempotently: a spill line already in the store is not written twice', async () => {
    const file = join(dir, 'usage.db')
    const spill = join(dir, 'spill.jsonl')
    const store = createSqliteStore({ file })
    const records = [makeRecord(), makeRecord(), makeRecord()]
    await store.insert([records[0]!])
    await store.close()
    writeFileSync(spill, records.map((r) => JSON.stringify({ b: 'old-boot', r })).join('\n') + '\n{"torn line\n')
    const { recorder, logs } = recorderFor(file)
    await recorder.start()
    await recorder.flush()
    expect(recorder.stats()).toMatchObject({ replayed: 2, corrupt: 1 })
    expect(rowsOf(file)).toHaveLength(3)
    expect(logs.some((l) => String(l.args[0]).includes('unreadable line 4'))).toBe(true)
    await recorder.close()
  })
})
