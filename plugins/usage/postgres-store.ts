/**
 * Postgres usage store: a small `pg` Pool of its own, one INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING
 * per batch (a single statement is its own transaction; the conflict is a replayed record, on the gateway's own id). The schema is created or migrated on open under an advisory lock,
 * so replicas starting together migrate once.
 */
import pg from 'pg'
import type { ConsolaInstance } from 'consola'
import { migrateOnce, migratePostgres } from '../../core/index.ts'
import type { RequestRecord } from '../../core/index.ts'
import { COLUMNS, LEGACY_CLIENT_ID_ROWS, groupExpression, isTimeGroup, recordValues, type UsageQuery, type UsageRow, type UsageStore } from './store.ts'

export interface PostgresStoreOptions {
  url: string
  /** Schema holding the tables (created when missing). */
  schema?: string
  poolSize?: number
  connectTimeoutMs?: number
  /** Server-side cap per statement: a slow store fails the batch (the recorder retries or spills). */
  statementTimeoutMs?: number
  logger?: ConsolaInstance
}

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

// Postgres array types of COLUMNS, in order: one array parameter per column (unnest), whatever the batch size.
const ARRAY_TYPES = [
  'text', 'int8', 'int8', 'text', 'text', 'text', 'text', 'text', 'text', 'int2', 'int4', 'text', 'text', 'int8', 'int8',
  'int8', 'int8', 'int2', 'float8', 'int4', 'int4', 'int4', 'text', 'text', 'int2', 'float8',
]

/** Schema versions in order; exported for the migration tests. */
export const postgresMigrations = (table: string): string[][] => [
  [
    `CREATE TABLE IF NOT EXISTS ${table} (
      id TEXT PRIMARY KEY,
      time BIGINT NOT NULL,
      ended_at BIGINT NOT NULL,
      principal_id TEXT,
      principal_name TEXT,
      requested_model TEXT NOT NULL,
      provider TEXT,
      upstream_model TEXT,
      api TEXT NOT NULL,
      stream SMALLINT NOT NULL,
      status INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      error_message TEXT,
      input_tokens BIGINT NOT NULL,
      output_tokens BIGINT NOT NULL,
      cached_tokens BIGINT NOT NULL,
      reasoning_tokens BIGINT NOT NULL,
      estimated SMALLINT NOT NULL,
      cost_usd DOUBLE PRECISION NOT NULL,
      latency_ms INTEGER NOT NULL,
      ttfb_ms INTEGER,
      attempts INTEGER NOT NULL,
      tags JSONB
    )`,
    `CREATE INDEX IF NOT EXISTS usage_time_idx ON ${table} (time)`,
    `CREATE INDEX IF NOT EXISTS usage_principal_time_idx ON ${table} (principal_id, time) INCLUDE (cost_usd)`,
    `CREATE INDEX IF NOT EXISTS usage_model_time_idx ON ${table} (upstream_model, time)`,
    `CREATE INDEX IF NOT EXISTS usage_provider_time_idx ON ${table} (provider, time)`,
  ],
  [
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS client_request_id TEXT`,
    `UPDATE ${table} SET client_request_id = id WHERE client_request_id IS NULL AND ${LEGACY_CLIENT_ID_ROWS}`,
    `CREATE INDEX IF NOT EXISTS usage_client_request_idx ON ${table} (client_request_id)`,
  ],
  [
    // Answers served from a response cache (the cache plugin): cost 0, and what the upstream would have cost.
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS cached SMALLINT NOT NULL DEFAULT 0`,
    `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS saved_usd DOUBLE PRECISION NOT NULL DEFAULT 0`,
  ],
]

const DAY = `to_char(to_timestamp(time / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`

/**
 * One INSERT per batch with one array parameter per column: parsing and binding cost stays constant as batches
 * grow, unlike a VALUES list with a parameter per cell (and it never hits the 65535-parameter cap).
 */
function insertStatement(table: string): string {
  const params = ARRAY_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')
  const select = COLUMNS.map((column) => (column === 'tags' ? 'tags::jsonb' : column)).join(', ')
  return `INSERT INTO ${table} (${COLUMNS.join(', ')}) SELECT ${select} FROM unnest(${params}) AS batch(${COLUMNS.join(', ')}) ON CONFLICT (id) DO NOTHING`
}

export function createPostgresStore(options: PostgresStoreOptions): UsageStore {
  const schema = options.schema ?? 'public'
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid Postgres schema name "${schema}"`)
  const table = `"${schema}".usage_records`
  const versionTable = `"${schema}".usage_schema_version`
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  })
  // An idle client losing its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) => options.logger?.warn('usage store (postgres) connection error:', error.message))
  let ended = false
  const insert = insertStatement(table)
  // A named statement is parsed once per connection.
  const insertName = `sluice_usage_insert_${schema}`

  const ensureOpen = migrateOnce(() => migratePostgres(pool, { lock: `sluice.usage.${schema}`, schema, versionTable, steps: postgresMigrations(table) }))

  return {
    kind: 'postgres',
    open: ensureOpen,
    async insert(records: RequestRecord[]) {
      if (records.length === 0) return 0
      await ensureOpen()
      const columns: unknown[][] = COLUMNS.map(() => new Array(records.length))
      for (let row = 0; row < records.length; row++) {
        const values = recordValues(records[row]!)
        for (let column = 0; column < values.length; column++) columns[column]![row] = values[column]
      }
      const result = await pool.query({ name: insertName, text: insert, values: columns })
      return result.rowCount ?? 0
    },
    async query(query: UsageQuery): Promise<UsageRow[]> {
      await ensureOpen()
      const group = groupExpression(query.groupBy, DAY)
      const order = isTimeGroup(query.groupBy) ? 'grp ASC' : '"costUSD" DESC, grp ASC'
      const { rows } = await pool.query(`
        SELECT ${group} AS grp, COUNT(*)::bigint AS requests, SUM(input_tokens)::bigint AS "inputTokens",
               SUM(output_tokens)::bigint AS "outputTokens", SUM(cost_usd)::float8 AS "costUSD",
               SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)::bigint AS errors
        FROM ${table} WHERE time >= $1 AND time < $2 GROUP BY grp ORDER BY ${order}`, [query.from, query.to])
      return rows.map((row: any) => ({
        group: String(row.grp), requests: Number(row.requests), inputTokens: Number(row.inputTokens ?? 0),
        outputTokens: Number(row.outputTokens ?? 0), costUSD: Number(row.costUSD ?? 0), errors: Number(row.errors ?? 0),
      }))
    },
    async spentUSD(principalId, sinceMs) {
      await ensureOpen()
      const { rows } = await pool.query(`SELECT COALESCE(SUM(cost_usd), 0)::float8 AS spent FROM ${table} WHERE principal_id = $1 AND time >= $2`, [principalId, sinceMs])
      return Number(rows[0]?.spent ?? 0)
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
