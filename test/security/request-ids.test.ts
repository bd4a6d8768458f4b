/**
 * Records are keyed by the gateway's own id. A client's `x-request-id` is kept as a correlation column only, so
 * reusing one neither drops records (which made requests free: the budget is read from the stored rows) nor lets
 * one tenant pre-empt another tenant's record.
 *
 * End to end through a real gateway (keys + usage on SQLite, test/keys/e2e.ts), then each store on its own:
 * SQLite always, Postgres when DATABASE_URL is set; and the spill file.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/gateway.ts'
import { startKeysRig } from '../keys/e2e.ts'
import { makeRecord, ManualClock, tempDir, testLogger } from '../usage/helpers.ts'
import { createSqliteStore, SQLITE_MIGRATIONS } from '../../plugins/usage/sqlite-store.ts'
import { createPostgresStore, postgresMigrations } from '../../plugins/usage/postgres-store.ts'
import { appendSpill, readLines } from '../../core/spill.ts'
import { Recorder } from '../../plugins/usage/recorder.ts'
import type { UsageStore } from '../../plugins/usage/store.ts'

const MODEL = 'openai/gpt-4o-mini'
// keys-e2e.config.ts prices this model at $0.01 per token; the mock bills one token per word:
// "hello" in, "echo: hello" out = 3 tokens.
const COST_USD = 0.03
const BODY = JSON.stringify({ model: MODEL, max_tokens: 4, messages: [{ role: 'user', content: 'hello' }] })

describe('one client x-request-id, reused, through a real gateway on budgeted keys', () => {
  let rig: Awaited<ReturnType<typeof startKeysRig>>
  let db: Database.Database

  beforeAll(async () => {
    rig = await startKeysRig('request-ids')
    db = new Database(join(rig.dir, 'usage.db'), { readonly: true, fileMustExist: false })
  })
  afterAll(async () => {
    db?.close()
    await rig?.close()
  })

  async function createKey(name: string, maxUSD: number): Promise<{ id: string; key: string }> {
    const created = await rig.admin('POST', '/keys', { name, models: [MODEL], budget: { maxUSD, period: 'day' } })
    expect(created.status).toBe(201)
    return created.body
  }

  const send = (key: string, clientId: string) => fetch(`${rig.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': clientId },
    body: BODY,
  })

  const rowsOf = (principalId: string) => db.prepare(
    'SELECT COUNT(*) AS n, SUM(status = 200) AS ok, COUNT(DISTINCT id) AS ids, SUM(cost_usd) AS cost, MIN(client_request_id) AS lo, MAX(client_request_id) AS hi FROM usage_records WHERE principal_id = ?',
  ).get(principalId) as { n: number; ok: number; ids: number; cost: number | null; lo: string | null; hi: string | null }

  it('N requests give N rows and spend N × cost', async () => {
    const N = 300
    const clientId = 'the-same-id-every-time'
    const { id, key } = await createKey('reuser', 1000)
    const gatewayIds = new Set<string>()
    for (let sent = 0; sent < N; sent += 25) {
      const responses = await Promise.all(Array.from({ length: Math.min(25, N - sent) }, () => send(key, clientId)))
      for (const response of responses) {
        expect(response.status).toBe(200)
        expect(response.headers.get('x-client-request-id')).toBe(clientId)
        gatewayIds.add(response.headers.get('x-request-id')!)
        await response.arrayBuffer()
      }
    }
    expect(gatewayIds.size).toBe(N)
    expect([...gatewayIds].every((gatewayId) => /^req_[0-9a-f]{32}$/.test(gatewayId))).toBe(true)

    await eventually(() => expect(rowsOf(id).n).toBe(N), 10_000)
    const rows = rowsOf(id)
    expect(rows).toMatchObject({ n: N, ok: N, ids: N, lo: clientId, hi: clientId })
    expect(rows.cost).toBeCloseTo(N * COST_USD, 9)
    const stored = db.prepare('SELECT id FROM usage_records WHERE client_request_id = ?').all(clientId) as Array<{ id: string }>
    expect(new Set(stored.map((row) => row.id))).toEqual(gatewayIds)
    await eventually(async () => {
      const spend = (await rig.admin('GET', `/keys/${id}/spend`)).body
      expect(spend.spentUSD.day).toBeCloseTo(N * COST_USD, 9)
    })
  })

  it('a budget is spent by every request, so the reused id is refused once the budget is gone', async () => {
    const maxUSD = 0.5
    const { id, key } = await createKey('small-budget', maxUSD)
    let served = 0
    let refusal: any
    for (let i = 0; i < 60 && !refusal; i++) {
      const response = await send(key, 'free-ride')
      if (response.status === 200) served++
      else refusal = { status: response.status, body: await response.json() }
      if (response.status === 200) await response.arrayBuffer()
    }
    expect(refusal).toMatchObject({ status: 403, body: { error: { code: 'insufficient_quota' } } })
    // The refusal is recorded too (a 403 costing nothing).
    await eventually(() => expect(rowsOf(id)).toMatchObject({ n: served + 1, ok: served }), 10_000)
    expect(rowsOf(id).cost).toBeCloseTo(served * COST_USD, 9)
    expect(served * COST_USD).toBeLessThanOrEqual(maxUSD)
  })

  it("a tenant cannot pre-empt another tenant's id: each request keeps its own row", async () => {
    const alice = await createKey('alice', 100)
    const mallory = await createKey('mallory', 100)
    // Mallory sends first with the id Alice will use, then reuses the gateway id Alice's request got.
    const early = await send(mallory.key, 'alice-trace-1')
    expect(early.status).toBe(200)
    const answer = await send(alice.key, 'alice-trace-1')
    expect(answer.status).toBe(200)
    const aliceId = answer.headers.get('x-request-id')!
    expect(aliceId).not.toBe(early.headers.get('x-request-id'))
    const late = await send(mallory.key, aliceId)
    expect(late.headers.get('x-request-id')).not.toBe(aliceId)
    await Promise.all([early, answer, late].map((response) => response.arrayBuffer()))

    await eventually(() => expect(rowsOf(mallory.id).n).toBe(2), 10_000)
    await eventually(() => expect(rowsOf(alice.id).n).toBe(1), 10_000)
    expect(db.prepare('SELECT principal_id, client_request_id FROM usage_records WHERE id = ?').get(aliceId))
      .toEqual({ principal_id: alice.id, client_request_id: 'alice-trace-1' })
  })
})

/** The same checks on each store: rows keyed by record id, the client's id a plain indexed column, a v1 database migrated. */
function storeSuite(name: string, setup: () => Promise<{
  store: () => UsageStore
  /** Creates the version-1 schema (before client_request_id) with one row keyed by a client's id and one by a gateway id. */
  seedVersion1: (clientKeyed: string, gatewayKeyed: string) => Promise<void>
  rows: () => Promise<Array<{ id: string; client_request_id: string | null }>>
  indexes: () => Promise<string[]>
  teardown: () => Promise<void>
}>) {
  describe(`${name} usage store`, () => {
    let ctx: Awaited<ReturnType<typeof setup>>
    beforeAll(async () => { ctx = await setup() })
    afterAll(async () => { await ctx?.teardown() })

    it('migrates a version-1 database: the column and its index appear, client-keyed rows keep their id as client_request_id', async () => {
      const gatewayKeyed = `req_${'0123456789abcdef'.repeat(2)}`
      await ctx.seedVersion1('clients-own-id', gatewayKeyed)
      const store = ctx.store()
      await store.open()
      await store.close()
      expect(await ctx.indexes()).toContain('usage_client_request_idx')
      expect(await ctx.rows()).toEqual(expect.arrayContaining([
        { id: 'clients-own-id', client_request_id: 'clients-own-id' },
        { id: gatewayKeyed, client_request_id: null },
      ]))
    })

    it('stores two records with one client id as two rows, and a record written twice as one', async () => {
      const store = ctx.store()
      const first = makeRecord({ clientRequestId: 'shared' })
      const second = makeRecord({ clientRequestId: 'shared' })
      expect(await store.insert([first, second])).toBe(2)
      expect(await store.insert([first])).toBe(0) // a replay of the same record: idempotent on the gateway id
      await store.close()
      const rows = (await ctx.rows()).filter((row) => row.client_request_id === 'shared')
      expect(rows.map((row) => row.id).sort()).toEqual([first.id, second.id].sort())
    })
  })
}

storeSuite('SQLite', async () => {
  const { dir, cleanup } = tempDir('sluice-request-ids-')
  const file = join(dir, 'usage.db')
  const read = <T>(query: (db: Database.Database) => T): T => {
    const db = new Database(file, { readonly: true })
    try { return query(db) } finally { db.close() }
  }
  return {
    store: () => createSqliteStore({ file }),
    async seedVersion1(clientKeyed, gatewayKeyed) {
      const db = new Database(file)
      db.exec('CREATE TABLE usage_schema_version (version INTEGER NOT NULL)')
      for (const statement of SQLITE_MIGRATIONS[0]!) db.exec(statement)
      db.exec('INSERT INTO usage_schema_version (version) VALUES (1)')
      const insert = db.prepare(`INSERT INTO usage_records (id, time, ended_at, requested_model, api, stream, status, outcome, input_tokens,
        output_tokens, cached_tokens, reasoning_tokens, estimated, cost_usd, latency_ms, attempts) VALUES (?, 1, 2, 'm', 'openai-chat', 0, 200, 'ok', 0, 0, 0, 0, 0, 0, 1, 1)`)
      insert.run(clientKeyed)
      insert.run(gatewayKeyed)
      db.close()
    },
    rows: async () => read((db) => db.prepare('SELECT id, client_request_id FROM usage_records').all() as any),
    indexes: async () => read((db) => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as any[]).map((r) => r.name)),
    teardown: async () => cleanup(),
  }
})

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) console.warn('[test/security/request-ids] DATABASE_URL is not set: skipping the Postgres store checks')

if (databaseUrl) {
  storeSuite('Postgres', async () => {
    const schema = `sluice_ids_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const admin = new pg.Client({ connectionString: databaseUrl })
    await admin.connect()
    const table = `"${schema}".usage_records`
    return {
      store: () => createPostgresStore({ url: databaseUrl, schema }),
      async seedVersion1(clientKeyed, gatewayKeyed) {
        await admin.query(`CREATE SCHEMA "${schema}"`)
        await admin.query(`CREATE TABLE "${schema}".usage_schema_version (version INTEGER NOT NULL)`)
        for (const statement of postgresMigrations(table)[0]!) await admin.query(statement)
        await admin.query(`INSERT INTO "${schema}".usage_schema_version (version) VALUES (1)`)
        for (const id of [clientKeyed, gatewayKeyed]) {
          await admin.query(`INSERT INTO ${table} (id, time, ended_at, requested_model, api, stream, status, outcome, input_tokens,
            output_tokens, cached_tokens, reasoning_tokens, estimated, cost_usd, latency_ms, attempts) VALUES ($1, 1, 2, 'm', 'openai-chat', 0, 200, 'ok', 0, 0, 0, 0, 0, 0, 1, 1)`, [id])
        }
      },
      rows: async () => (await admin.query(`SELECT id, client_request_id FROM ${table}`)).rows,
      indexes: async () => (await admin.query('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema])).rows.map((r) => r.indexname),
      async teardown() {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        await admin.end()
      },
    }
  })
}

describe('spill file', () => {
  it('carries the client id, and a replay repeated after a crash writes each record once', async () => {
    const { dir, cleanup } = tempDir('sluice-request-ids-spill-')
    try {
      const spillFile = join(dir, 'spill.jsonl')
      const records = [makeRecord({ clientRequestId: 'same' }), makeRecord({ clientRequestId: 'same' })]
      // The same lines twice: a replay that wrote its batch but died before removing the file.
      await appendSpill(spillFile, records, 'boot-1')
      await appendSpill(spillFile, records, 'boot-1')
      const lines: any[] = []
      for await (const line of readLines(spillFile)) lines.push(JSON.parse(line))
      expect(lines.map((line) => line.r.clientRequestId)).toEqual(['same', 'same', 'same', 'same'])

      const store = createSqliteStore({ file: join(dir, 'usage.db') })
      const recorder = new Recorder({ store, spillFile, queueSize: 100, batchSize: 10, flushIntervalMs: 10, clock: new ManualClock(), logger: testLogger().logger })
      await recorder.start()
      await recorder.flush()
      await recorder.close()
      const db = new Database(join(dir, 'usage.db'), { readonly: true })
      expect(db.prepare('SELECT id, client_request_id FROM usage_records ORDER BY id').all())
        .toEqual(records.map((r) => ({ id: r.id, client_request_id: 'same' })).sort((a, b) => a.id.localeCompare(b.id)))
      db.close()
    } finally {
      cleanup()
    }
  })
})
