/**
 * Postgres request log: a small `pg` Pool of its own; one INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING per
 * batch. The entry is JSONB; free text goes through a `tsvector` column computed on insert (the `simple`
 * configuration: no stemming, any language) with a GIN index. The schema is created or migrated under an advisory lock.
 */
import pg from 'pg'
import type { ConsolaInstance } from 'consola'
import { migrateOnce, migratePostgres } from '../../core/index.ts'
import type { LogEntry } from './entry.ts'
import { SCHEMA_NAME, type RetentionPolicy } from './options.ts'
import {
  DAY_MS, decodeCursor, encodeCursor, excess, queryWords, rowOf, statusCondition, summaryOf,
  type LogPage, type LogQuery, type LogStore, type PruneResult,
} from './store.ts'

export interface PostgresLogStoreOptions {
  url: string
  schema?: string
  table?: string
  poolSize?: number
  connectTimeoutMs?: number
  statementTimeoutMs?: number
  logger?: ConsolaInstance
}

const COLUMNS = ['id', 'time', 'principal_id', 'principal_name', 'requested_model', 'provider', 'upstream_model', 'status', 'outcome', 'has_content', 'size', 'entry', 'search'] as const
const TYPES = ['text', 'int8', 'text', 'text', 'text', 'text', 'text', 'int4', 'text', 'int2', 'int8', 'text', 'text']
const CHUNK = 1000
/**
 * The words of an entry as a tsvector (the text itself is not stored again). Anything but letters and digits
 * separates words, as in the query (store.ts `queryWords`), so e-mail addresses, URLs and paths are found by
 * their parts, as in SQLite.
 */
const SEARCH_VECTOR = `to_tsvector('simple', regexp_replace(search, '[^[:alnum:]]+', ' ', 'g'))`

export const postgresLogMigrations = (table: string, name: string): string[][] => [
  [
    `CREATE TABLE IF NOT EXISTS ${table} (
      id TEXT PRIMARY KEY,
      time BIGINT NOT NULL,
      principal_id TEXT,
      principal_name TEXT,
      requested_model TEXT NOT NULL,
      provider TEXT,
      upstream_model TEXT,
      status INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      has_content SMALLINT NOT NULL,
      size BIGINT NOT NULL,
      entry JSONB NOT NULL,
      search_vector tsvector NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS ${name}_time_idx ON ${table} (time, id)`,
    `CREATE INDEX IF NOT EXISTS ${name}_principal_idx ON ${table} (principal_id, time)`,
    `CREATE INDEX IF NOT EXISTS ${name}_model_idx ON ${table} (requested_model, time)`,
    `CREATE INDEX IF NOT EXISTS ${name}_search_idx ON ${table} USING GIN (search_vector)`,
  ],
]

export function createPostgresLogStore(options: PostgresLogStoreOptions): LogStore {
  const schema = options.schema ?? 'public'
  const name = options.table ?? 'request_logs'
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid Postgres schema name "${schema}"`)
  if (!SCHEMA_NAME.test(name)) throw new Error(`invalid Postgres table name "${name}"`)
  const table = `"${schema}"."${name}"`
  const versionTable = `"${schema}"."${name}_schema_version"`
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  })
  pool.on('error', (error) => options.logger?.warn('logs store (postgres) connection error:', error.message))
  let ended = false
  const params = TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
  const stored = COLUMNS.map((column) => (column === 'search' ? 'search_vector' : column)).join(', ')
  const select = COLUMNS.map((column) => (column === 'entry' ? 'entry::jsonb' : column === 'search' ? SEARCH_VECTOR : column)).join(', ')
  const insert = `INSERT INTO ${table} (${stored}) SELECT ${select} FROM unnest(${params}) AS batch(${COLUMNS.join(', ')}) ON CONFLICT (id) DO NOTHING`

  const ensureOpen = migrateOnce(() => migratePostgres(pool, { lock: `sluice.logs.${schema}.${name}`, schema, versionTable, steps: postgresLogMigrations(table, name) }))

  return {
    kind: 'postgres',
    open: ensureOpen,
    async insert(entries: LogEntry[]) {
      if (entries.length === 0) return 0
      await ensureOpen()
      const columns: unknown[][] = COLUMNS.map(() => new Array(entries.length))
      for (let i = 0; i < entries.length; i++) {
        const row = rowOf(entries[i]!, true) as unknown as Record<string, unknown>
        for (let c = 0; c < COLUMNS.length; c++) columns[c]![i] = row[COLUMNS[c]!]
      }
      const result = await pool.query({ text: insert, values: columns })
      return result.rowCount ?? 0
    },
    async list(query: LogQuery): Promise<LogPage> {
      await ensureOpen()
      const where: string[] = []
      const values: unknown[] = []
      const bind = (value: unknown) => `$${values.push(value)}`
      if (query.key) { const p = bind(query.key); where.push(`(principal_id = ${p} OR principal_name = ${p})`) }
      if (query.model) { const p = bind(query.model); where.push(`(requested_model = ${p} OR upstream_model = ${p} OR (provider || '/' || upstream_model) = ${p})`) }
      if (query.provider) where.push(`provider = ${bind(query.provider)}`)
      if (query.status !== undefined) {
        const placeholder = `$${values.length + 1}`
        const condition = statusCondition(query.status, placeholder)
        if (condition.bind !== undefined) values.push(condition.bind)
        where.push(condition.sql)
      }
      if (query.from !== undefined) where.push(`time >= ${bind(query.from)}`)
      if (query.to !== undefined) where.push(`time < ${bind(query.to)}`)
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined
      if (cursor) { const t = bind(cursor.time); where.push(`(time < ${t} OR (time = ${t} AND id < ${bind(cursor.id)}))`) }
      const words = query.q ? queryWords(query.q) : []
      if (query.q && words.length === 0) return { data: [] }
      if (words.length > 0) where.push(`search_vector @@ to_tsquery('simple', ${bind(words.map((word) => `${word}:*`).join(' & '))})`)
      const sql = `SELECT entry FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ${bind(query.limit + 1)}`
      const { rows } = await pool.query(sql, values)
      const entries = rows.slice(0, query.limit).map((row: { entry: LogEntry }) => row.entry)
      const last = entries[entries.length - 1]
      return { data: entries.map(summaryOf), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : undefined }
    },
    async get(id: string) {
      await ensureOpen()
      const { rows } = await pool.query(`SELECT entry FROM ${table} WHERE id = $1`, [id])
      return rows[0]?.entry as LogEntry | undefined
    },
    async prune(policy: RetentionPolicy, now: number): Promise<PruneResult> {
      await ensureOpen()
      let byAge = 0
      let bySize = 0
      if (policy.maxAgeDays !== undefined) {
        for (;;) {
          const { rowCount } = await pool.query(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE time < $1 LIMIT ${CHUNK})`, [now - policy.maxAgeDays * DAY_MS])
          byAge += rowCount ?? 0
          if ((rowCount ?? 0) < CHUNK) break
        }
      }
      if (policy.maxRows !== undefined) {
        const { rows } = await pool.query(`SELECT COUNT(*)::bigint AS n FROM ${table}`)
        const doomed = excess(Number(rows[0].n), policy.maxRows)
        if (doomed > 0) {
          const { rowCount } = await pool.query(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} ORDER BY time ASC, id ASC LIMIT $1)`, [doomed])
          bySize += rowCount ?? 0
        }
      }
      if (policy.maxBytes !== undefined) {
        const { rows } = await pool.query(`SELECT COALESCE(SUM(size), 0)::bigint AS total FROM ${table}`)
        const over = excess(Number(rows[0].total), policy.maxBytes)
        if (over > 0) {
          // The oldest rows whose sizes add up to what is over the cap (the row that crosses it included).
          const { rowCount } = await pool.query(`
            DELETE FROM ${table} WHERE id IN (
              SELECT id FROM (SELECT id, SUM(size) OVER (ORDER BY time ASC, id ASC) - size AS before FROM ${table}) oldest
              WHERE before < $1)`, [over])
          bySize += rowCount ?? 0
        }
      }
      return { byAge, bySize }
    },
    async count() {
      await ensureOpen()
      const { rows } = await pool.query(`SELECT COUNT(*)::bigint AS n FROM ${table}`)
      return Number(rows[0].n)
    },
    async close() {
      if (ended) return
      ended = true
      await pool.end()
    },
  }
}
