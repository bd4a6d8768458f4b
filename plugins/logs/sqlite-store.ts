/**
 * SQLite request log: better-sqlite3, WAL, one table of entries (filter columns plus the entry as JSON) and an
 * FTS5 index of each entry's words. The index is contentless (the words are not stored twice); a trigger removes
 * an entry's words when the entry is deleted. Indexes: time, key and requested model; other filters (provider,
 * upstream model, status) narrow a walk down the time index — each index is paid on every insert. Retention deletes in chunks and yields between them, so a large
 * prune never holds the event loop for long.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { migrateSqlite } from '../../core/index.ts'
import type { LogEntry } from './entry.ts'
import type { RetentionPolicy } from './options.ts'
import {
  DAY_MS, decodeCursor, encodeCursor, excess, queryWords, rowOf, statusCondition, summaryOf,
  type EntryRow, type LogPage, type LogQuery, type LogStore, type PruneResult,
} from './store.ts'

export interface SqliteLogStoreOptions {
  file: string
  busyTimeoutMs?: number
}

const COLUMNS = ['id', 'time', 'principal_id', 'principal_name', 'requested_model', 'provider', 'upstream_model', 'status', 'outcome', 'has_content', 'size', 'entry'] as const

export const SQLITE_LOG_MIGRATIONS: string[][] = [
  [
    `CREATE TABLE request_logs (
      id TEXT PRIMARY KEY,
      time INTEGER NOT NULL,
      principal_id TEXT,
      principal_name TEXT,
      requested_model TEXT NOT NULL,
      provider TEXT,
      upstream_model TEXT,
      status INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      has_content INTEGER NOT NULL,
      size INTEGER NOT NULL,
      entry TEXT NOT NULL
    )`,
    `CREATE INDEX request_logs_time_idx ON request_logs (time, id)`,
    `CREATE INDEX request_logs_principal_idx ON request_logs (principal_id, time)`,
    `CREATE INDEX request_logs_model_idx ON request_logs (requested_model, time)`,
    // Words only, no positions (`detail=column`): queries are words and prefixes, never phrases; inserts cost less.
    `CREATE VIRTUAL TABLE request_logs_fts USING fts5(search, content='', contentless_delete=1, detail=column, tokenize='unicode61 remove_diacritics 2')`,
    `CREATE TRIGGER request_logs_fts_delete AFTER DELETE ON request_logs BEGIN DELETE FROM request_logs_fts WHERE rowid = old.rowid; END`,
  ],
]

const INSERT = `INSERT INTO request_logs (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')}) ON CONFLICT (id) DO NOTHING`
const CHUNK = 500

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

export function createSqliteLogStore(options: SqliteLogStoreOptions): LogStore {
  let db: Database.Database | undefined
  let insertMany: ((rows: EntryRow[]) => number) | undefined

  function connection(): Database.Database {
    if (db) return db
    mkdirSync(dirname(options.file), { recursive: true })
    const opened = new Database(options.file, { timeout: options.busyTimeoutMs ?? 50 })
    try {
      // Set before the first table exists (a no-op afterwards): pruned pages go back to the file system.
      opened.pragma('auto_vacuum = INCREMENTAL')
      opened.pragma('journal_mode = WAL')
      opened.pragma('synchronous = NORMAL')
      migrateSqlite(opened, 'request_logs_schema_version', SQLITE_LOG_MIGRATIONS)
      const insert = opened.prepare(INSERT)
      const index = opened.prepare('INSERT INTO request_logs_fts (rowid, search) VALUES (?, ?)')
      insertMany = opened.transaction((rows: EntryRow[]) => {
        let inserted = 0
        for (const row of rows) {
          const result = insert.run(row)
          if (result.changes === 0) continue // already stored (a replayed spill)
          index.run(result.lastInsertRowid, row.search)
          inserted++
        }
        return inserted
      })
    } catch (error) {
      opened.close()
      throw error
    }
    db = opened
    return opened
  }

  function reset(error: unknown) {
    const code = (error as { code?: string })?.code ?? ''
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return
    try { db?.close() } catch {}
    db = undefined
    insertMany = undefined
  }

  /** Deletes rows chosen by `select` (rowids), a chunk at a time; returns how many went. */
  async function deleteChunks(select: string, ...params: unknown[]): Promise<number> {
    let deleted = 0
    for (;;) {
      const changes = connection().prepare(`DELETE FROM request_logs WHERE rowid IN (${select} LIMIT ${CHUNK})`).run(...params).changes
      deleted += changes
      if (changes < CHUNK) return deleted
      await tick()
    }
  }

  return {
    kind: 'sqlite',
    async open() {
      connection()
    },
    async insert(entries: LogEntry[]) {
      if (entries.length === 0) return 0
      connection()
      try {
        return insertMany!(entries.map((entry) => rowOf(entry)))
      } catch (error) {
        reset(error)
        throw error
      }
    },
    async list(query: LogQuery): Promise<LogPage> {
      const where: string[] = []
      const params: unknown[] = []
      if (query.key) { where.push('(principal_id = ? OR principal_name = ?)'); params.push(query.key, query.key) }
      if (query.model) {
        where.push(`(requested_model = ? OR upstream_model = ? OR (provider || '/' || upstream_model) = ?)`)
        params.push(query.model, query.model, query.model)
      }
      if (query.provider) { where.push('provider = ?'); params.push(query.provider) }
      if (query.status !== undefined) {
        const condition = statusCondition(query.status, '?')
        where.push(condition.sql)
        if (condition.bind !== undefined) params.push(condition.bind)
      }
      if (query.from !== undefined) { where.push('time >= ?'); params.push(query.from) }
      if (query.to !== undefined) { where.push('time < ?'); params.push(query.to) }
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined
      if (cursor) { where.push('(time < ? OR (time = ? AND id < ?))'); params.push(cursor.time, cursor.time, cursor.id) }
      const words = query.q ? queryWords(query.q) : []
      if (query.q && words.length === 0) return { data: [] }
      if (words.length > 0) {
        where.push('rowid IN (SELECT rowid FROM request_logs_fts WHERE request_logs_fts MATCH ?)')
        params.push(words.map((word) => `"${word}"*`).join(' '))
      }
      const sql = `SELECT entry FROM request_logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ?`
      const rows = connection().prepare(sql).all(...params, query.limit + 1) as Array<{ entry: string }>
      const entries = rows.slice(0, query.limit).map((row) => JSON.parse(row.entry) as LogEntry)
      const last = entries[entries.length - 1]
      return { data: entries.map(summaryOf), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : undefined }
    },
    async get(id: string) {
      const row = connection().prepare('SELECT entry FROM request_logs WHERE id = ?').get(id) as { entry: string } | undefined
      return row ? (JSON.parse(row.entry) as LogEntry) : undefined
    },
    async prune(policy: RetentionPolicy, now: number): Promise<PruneResult> {
      let byAge = 0
      let bySize = 0
      if (policy.maxAgeDays !== undefined) {
        byAge = await deleteChunks('SELECT rowid FROM request_logs WHERE time < ?', now - policy.maxAgeDays * DAY_MS)
      }
      if (policy.maxRows !== undefined) {
        const { n } = connection().prepare('SELECT COUNT(*) AS n FROM request_logs').get() as { n: number }
        let left = excess(n, policy.maxRows)
        while (left > 0) {
          const take = Math.min(left, CHUNK)
          const changes = connection().prepare('DELETE FROM request_logs WHERE rowid IN (SELECT rowid FROM request_logs ORDER BY time ASC, id ASC LIMIT ?)').run(take).changes
          bySize += changes
          left -= take
          if (changes < take) break
          await tick()
        }
      }
      if (policy.maxBytes !== undefined) {
        const { total } = connection().prepare('SELECT COALESCE(SUM(size), 0) AS total FROM request_logs').get() as { total: number }
        let left = excess(total, policy.maxBytes)
        while (left > 0) {
          const oldest = connection().prepare('SELECT rowid AS r, size FROM request_logs ORDER BY time ASC, id ASC LIMIT ?').all(CHUNK) as Array<{ r: number; size: number }>
          if (oldest.length === 0) break
          const doomed: number[] = []
          for (const row of oldest) {
            if (left <= 0) break
            doomed.push(row.r)
            left -= row.size
          }
          const remove = connection().prepare(`DELETE FROM request_logs WHERE rowid IN (${doomed.map(() => '?').join(', ')})`)
          bySize += remove.run(...doomed).changes
          await tick()
        }
      }
      if (byAge + bySize > 0) connection().pragma('incremental_vacuum')
      return { byAge, bySize }
    },
    async count() {
      return (connection().prepare('SELECT COUNT(*) AS n FROM request_logs').get() as { n: number }).n
    },
    async close() {
      try { db?.close() } catch {}
      db = undefined
      insertMany = undefined
    },
  }
}
