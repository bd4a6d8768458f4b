/**
 * Where snapshots are kept: Postgres when configured (one row per version; the primary key makes two admins
 * writing the same version at once a refusal for the second, not a lost change), else the gateway's storage
 * (Redis in a fleet, files on one machine), where the check-then-write is not atomic: fine for one operator.
 */
import pg from 'pg'
import type { Storage } from 'unstorage'
import type { Snapshot } from './types.ts'

export interface SnapshotStore {
  open(): Promise<void>
  head(): Promise<Snapshot | undefined>
  get(version: number): Promise<Snapshot | undefined>
  /** Writes `snapshot`; false when its version exists already (another change got there first). */
  append(snapshot: Snapshot): Promise<boolean>
  /** Newest first. */
  list(limit: number): Promise<Snapshot[]>
  close(): Promise<void>
}

export function storageStore(storage: Storage): SnapshotStore {
  const key = (version: number) => `snapshots:${String(version).padStart(10, '0')}`
  return {
    async open() {},
    async head() {
      const version = Number(await storage.getItem<number>('head') ?? 0)
      return version > 0 ? (await storage.getItem<Snapshot>(key(version))) ?? undefined : undefined
    },
    async get(version) {
      return (await storage.getItem<Snapshot>(key(version))) ?? undefined
    },
    async append(snapshot) {
      if (await storage.hasItem(key(snapshot.version))) return false
      await storage.setItem(key(snapshot.version), snapshot)
      await storage.setItem('head', snapshot.version)
      return true
    },
    async list(limit) {
      const head = Number(await storage.getItem<number>('head') ?? 0)
      const versions = Array.from({ length: Math.min(limit, head) }, (_, i) => head - i)
      return (await Promise.all(versions.map((v) => storage.getItem<Snapshot>(key(v))))).filter((s): s is Snapshot => !!s)
    },
    async close() {},
  }
}

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

interface Row { version: number; overlay: Snapshot['overlay']; actor: string; note: string | null; created_at: Date; restores: number | null }

const fromRow = (row: Row): Snapshot => ({
  version: row.version, overlay: row.overlay, actor: row.actor, createdAt: row.created_at.toISOString(),
  ...(row.note !== null && { note: row.note }), ...(row.restores !== null && { restores: row.restores }),
})

export function postgresStore(url: string, schema = 'public'): SnapshotStore & { pool: pg.Pool; table: string } {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid Postgres schema name "${schema}"`)
  const table = `"${schema}".sluice_config_snapshots`
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  pool.on('error', () => {}) // an idle client's error; the next query reports its own
  const one = async (sql: string, params: unknown[] = []) => {
    const { rows } = await pool.query<Row>(sql, params)
    return rows[0] ? fromRow(rows[0]) : undefined
  }
  return {
    pool,
    table,
    async open() {
      const client = await pool.connect()
      try {
        // Two replicas starting together must not race on CREATE: one at a time, under an advisory lock.
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [table])
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
          version INTEGER PRIMARY KEY, overlay JSONB NOT NULL, actor TEXT NOT NULL, note TEXT,
          created_at TIMESTAMPTZ NOT NULL DEFAULT now(), restores INTEGER)`)
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [table]).catch(() => {})
        client.release()
      }
    },
    head: () => one(`SELECT * FROM ${table} ORDER BY version DESC LIMIT 1`),
    get: (version) => one(`SELECT * FROM ${table} WHERE version = $1`, [version]),
    async append(s) {
      const result = await pool.query(
        `INSERT INTO ${table} (version, overlay, actor, note, created_at, restores) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version) DO NOTHING`,
        [s.version, JSON.stringify(s.overlay), s.actor, s.note ?? null, s.createdAt, s.restores ?? null],
      )
      return result.rowCount === 1
    },
    async list(limit) {
      const { rows } = await pool.query<Row>(`SELECT * FROM ${table} ORDER BY version DESC LIMIT $1`, [limit])
      return rows.map(fromRow)
    },
    async close() {
      await pool.end()
    },
  }
}
