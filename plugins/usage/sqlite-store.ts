/**
 * SQLite usage store: better-sqlite3 on its own connection, WAL, batched transactions.
 *
 * better-sqlite3 is synchronous, so the writer runs on the main thread in small batches (an insert of 200
 * rows in one WAL transaction with synchronous=NORMAL takes well under a millisecond) and yields between
 * batches. A worker thread would need a TypeScript loader inside the worker (no build step on Node 20) and a
 * message hop per batch, for no gain at these batch sizes. The busy timeout is short for the same reason: a
 * locked database is treated as an outage (the recorder spills and retries), never a stalled event loop.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { migrateSqlite } from '../../core/index.ts'
import type { RequestRecord } from '../../core/index.ts'
import { COLUMNS, LEGACY_CLIENT_ID_ROWS, groupExpression, isTimeGroup, recordValues, type UsageQuery, type UsageRow, type UsageStore } from './store.ts'

export interface SqliteStoreOptions {
  file: string
  /** How long a write waits for another connection's lock before failing (ms). */
  busyTimeoutMs?: number
}

/** Schema versions in order; exported for the migration tests. */
export const SQLITE_MIGRATIONS: string[][] = [
  [
    `CREATE TABLE usage_records (
      id TEXT PRIMARY KEY,
      time INTEGER NOT NULL,
      ended_at INTEGER NOT NULL,
      principal_id TEXT,
      principal_name TEXT,
      requested_model TEXT NOT NULL,
      provider TEXT,
      upstream_model TEXT,
      api TEXT NOT NULL,
      stream INTEGER NOT NULL,
      status INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      error_message TEXT,
      input_tokens INTEGER NOT NULL,
      output_tokens INTEGER NOT NULL,
      cached_tokens INTEGER NOT NULL,
      reasoning_tokens INTEGER NOT NULL,
      estimated INTEGER NOT NULL,
      cost_usd REAL NOT NULL,
      latency_ms INTEGER NOT NULL,
      ttfb_ms INTEGER,
      attempts INTEGER NOT NULL,
      tags TEXT
    )`,
    `CREATE INDEX usage_time_idx ON usage_records (time)`,
    `CREATE INDEX usage_principal_time_idx ON usage_records (principal_id, time, cost_usd)`,
    `CREATE INDEX usage_model_time_idx ON usage_records (upstream_model, time)`,
    `CREATE INDEX usage_provider_time_idx ON usage_records (provider, time)`,
  ],
  [
    `ALTER TABLE usage_records ADD COLUMN client_request_id TEXT`,
    `UPDATE usage_records SET client_request_id = id WHERE ${LEGACY_CLIENT_ID_ROWS}`,
    `CREATE INDEX usage_client_request_idx ON usage_records (client_request_id)`,
  ],
  [
    // Answers served from a response cache (the cache plugin): cost 0, and what the upstream would have cost.
    `ALTER TABLE usage_records ADD COLUMN cached INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE usage_records ADD COLUMN saved_usd REAL NOT NULL DEFAULT 0`,
  ],
]

const INSERT = `INSERT INTO usage_records (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`
const DAY = `strftime('%Y-%m-%d', time / 1000, 'unixepoch')`

export function createSqliteStore(options: SqliteStoreOptions): UsageStore {
  let db: Database.Database | undefined
  let insertMany: ((records: RequestRecord[]) => number) | undefined

  function connection(): Database.Database {
    if (db) return db
    mkdirSync(dirname(options.file), { recursive: true })
    const opened = new Database(options.file, { timeout: options.busyTimeoutMs ?? 50 })
    try {
      opened.pragma('journal_mode = WAL')
      opened.pragma('synchronous = NORMAL')
      migrateSqlite(opened, 'usage_schema_version', SQLITE_MIGRATIONS)
      const statement = opened.prepare(INSERT)
      insertMany = opened.transaction((records: RequestRecord[]) => {
        let inserted = 0
        for (const record of records) inserted += statement.run(recordValues(record)).changes
        return inserted
      })
    } catch (error) {
      opened.close()
      throw error
    }
    db = opened
    return opened
  }

  /** After an I/O failure the handle may be unusable (file gone, disk error): reopen on the next attempt. */
  function reset(error: unknown) {
    const code = (error as { code?: string })?.code ?? ''
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return
    try { db?.close() } catch {}
    db = undefined
    insertMany = undefined
  }

  return {
    kind: 'sqlite',
    async open() {
      connection()
    },
    async insert(records) {
      if (records.length === 0) return 0
      connection()
      try {
        return insertMany!(records)
      } catch (error) {
        reset(error)
        throw error
      }
    },
    async query(query: UsageQuery): Promise<UsageRow[]> {
      const group = groupExpression(query.groupBy, DAY)
      const order = isTimeGroup(query.groupBy) ? 'grp ASC' : 'costUSD DESC, grp ASC'
      const rows = connection().prepare(`
        SELECT ${group} AS grp, COUNT(*) AS requests, SUM(input_tokens) AS inputTokens, SUM(output_tokens) AS outputTokens,
               SUM(cost_usd) AS costUSD, SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors
        FROM usage_records WHERE time >= ? AND time < ? GROUP BY grp ORDER BY ${order}`).all(query.from, query.to) as any[]
      return rows.map((row) => ({
        group: String(row.grp), requests: row.requests, inputTokens: row.inputTokens ?? 0,
        outputTokens: row.outputTokens ?? 0, costUSD: row.costUSD ?? 0, errors: row.errors ?? 0,
      }))
    },
    async spentUSD(principalId, sinceMs) {
      const row = connection().prepare('SELECT COALESCE(SUM(cost_usd), 0) AS spent FROM usage_records WHERE principal_id = ? AND time >= ?').get(principalId, sinceMs) as { spent: number }
      return row.spent
    },
    async count() {
      return (connection().prepare('SELECT COUNT(*) AS n FROM usage_records').get() as { n: number }).n
    },
    async close() {
      try { db?.close() } catch {}
      db = undefined
      insertMany = undefined
    },
  }
}
