/**
 * Schema migrations for plugins that keep tables of their own (usage, logs): numbered steps, each a list of
 * statements, applied once and in order, each noted in a version table, all in one transaction. On Postgres an
 * advisory lock makes replicas that start together migrate once.
 */

/** Step n (1-based) is `steps[n - 1]`; a released step never changes, a change is a new step. */
export type Migrations = ReadonlyArray<readonly string[]>

/** What of a better-sqlite3 database the runner uses. */
interface SqliteDatabase {
  exec(sql: string): unknown
  prepare(sql: string): { get(...params: any[]): unknown; run(...params: any[]): unknown }
  transaction(fn: () => void): { immediate(): void }
}

export function migrateSqlite(db: SqliteDatabase, versionTable: string, steps: Migrations): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${versionTable} (version INTEGER NOT NULL)`)
  db.transaction(() => {
    const row = db.prepare(`SELECT MAX(version) AS version FROM ${versionTable}`).get() as { version: number | null }
    for (let version = (row.version ?? 0) + 1; version <= steps.length; version++) {
      for (const statement of steps[version - 1]!) db.exec(statement)
      db.prepare(`INSERT INTO ${versionTable} (version) VALUES (?)`).run(version)
    }
  }).immediate()
}

/** What of a `pg` pool the runner uses. */
interface PostgresPool {
  connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>; release(): void }>
}

export interface PostgresMigration {
  /** Names the advisory lock (one per schema and table set). */
  lock: string
  /** Created when missing (unless `public`). */
  schema: string
  /** Qualified name of the version table. */
  versionTable: string
  steps: Migrations
}

export async function migratePostgres(pool: PostgresPool, { lock, schema, versionTable, steps }: PostgresMigration): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock])
    if (schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${versionTable} (version INTEGER NOT NULL)`)
    const { rows } = await client.query(`SELECT MAX(version) AS version FROM ${versionTable}`)
    for (let version = (rows[0]?.version ?? 0) + 1; version <= steps.length; version++) {
      for (const statement of steps[version - 1]!) await client.query(statement)
      await client.query(`INSERT INTO ${versionTable} (version) VALUES ($1)`, [version])
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/** `migrate` run once for every caller; after a failure (the database down) the next call tries again. */
export function migrateOnce(migrate: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => (done ??= migrate().catch((error) => {
    done = undefined
    throw error
  }))
}
