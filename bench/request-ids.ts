/**
 * What the request id's shape costs the usage store: SQLite inserts (the usage table with its indexes, WAL,
 * synchronous=NORMAL, batches of 100 in one transaction) with random ids against time-ordered ones
 * (`newRequestId`: milliseconds first), alternating rounds, CPU µs per row, medians.
 *
 *   node --import jiti/register bench/request-ids.ts        # env: ROWS (per round, default 100000), ROUNDS (3)
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { newRequestId } from '../core/context.ts'
import { migrateSqlite } from '../core/migrations.ts'
import type { RequestRecord } from '../core/types.ts'
import { SQLITE_MIGRATIONS } from '../plugins/usage/sqlite-store.ts'
import { COLUMNS, recordValues } from '../plugins/usage/store.ts'
import { median } from './lib/load.ts'

const ROWS = Number(process.env.ROWS ?? 100_000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const BATCH = 100

const ids: Record<string, () => string> = {
  random: () => `req_${randomUUID().replaceAll('-', '')}`,
  'time-ordered': newRequestId,
}

function record(id: string): RequestRecord {
  const now = Date.now()
  return {
    id, startedAt: now, endedAt: now, api: 'openai-chat', stream: false, requestedModel: 'mock/bench', provider: 'mock',
    upstreamModel: 'bench', principalId: 'key_bench', principalName: 'bench', status: 200, outcome: 'ok',
    usage: { inputTokens: 12, outputTokens: 10, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
    latencyMs: 3, ttfbMs: 2, attempts: 1, costUSD: 0.0001,
  }
}

function round(kind: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ids-'))
  const db = new Database(join(dir, 'usage.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    migrateSqlite(db, 'usage_schema_version', SQLITE_MIGRATIONS)
    const insert = db.prepare(`INSERT INTO usage_records (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`)
    const many = db.transaction((rows: RequestRecord[]) => { for (const row of rows) insert.run(recordValues(row)) })
    const next = ids[kind]!
    const start = process.cpuUsage()
    for (let done = 0; done < ROWS; done += BATCH) many(Array.from({ length: BATCH }, () => record(next())))
    const used = process.cpuUsage(start)
    return (used.user + used.system) / ROWS
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const results: Record<string, number[]> = { random: [], 'time-ordered': [] }
for (let i = 0; i < ROUNDS; i++) for (const kind of Object.keys(ids)) results[kind]!.push(round(kind))
const [random, ordered] = [median(results.random!), median(results['time-ordered']!)]
console.log(`SQLite usage insert, ${ROWS} rows per round, ${ROUNDS} rounds (CPU µs per row, median):`)
console.log(`  random ids        ${random.toFixed(1)}`)
console.log(`  time-ordered ids  ${ordered.toFixed(1)}  (${(ordered / random).toFixed(2)}× random)`)
