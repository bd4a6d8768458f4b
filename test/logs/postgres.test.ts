/**
 * The request log on Postgres: the store suite (tsvector search, filters, cursor, retention), the e2e path with
 * a fallback through the official client, and an outage: with the database unreachable (a closed port) entries
 * spill to disk, and a gateway started later against the real database replays them.
 * Skips visibly without DATABASE_URL. Each run uses schemas of its own and drops only those.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresLogStore } from '../../plugins/logs/index.ts'
import { closedPort, startLogsRig, uniqueWord } from './helpers.ts'
import { storeSuite } from './store-suite.ts'

const url = process.env.DATABASE_URL
if (!url) console.warn('[test/logs/postgres] DATABASE_URL is not set: SKIPPING the Postgres request log tests')

const run = `sluice_logs_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
const schemas: string[] = []
const schemaFor = (label: string) => {
  const schema = `${run}_${label}`
  schemas.push(schema)
  return schema
}

/** A URL to a port nothing listens on: the database is "down". */
async function closedPortUrl(): Promise<string> {
  const down = new URL(url!)
  down.hostname = '127.0.0.1'
  down.port = String(await closedPort())
  return down.toString()
}

describe.skipIf(!url)('request log on Postgres', () => {
  let admin: pg.Client
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url })
    await admin.connect()
  })
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin?.end()
  })

  let n = 0
  storeSuite('Postgres', async () => {
    const store = createPostgresLogStore({ url: url!, schema: schemaFor(`s${++n}`) })
    await store.open()
    return store
  })

  it('creates a GIN index on the search vector', async () => {
    const schema = schemaFor('idx')
    const store = createPostgresLogStore({ url: url!, schema, table: 'my_logs' })
    await store.open()
    await store.close()
    const { rows } = await admin.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1`, [schema])
    expect(rows.find((row) => row.indexname === 'my_logs_search_idx')?.indexdef).toMatch(/USING gin \(search_vector\)/)
  })

  it('end to end: a fallen-back request is found by free text, with both attempts', async () => {
    const schema = schemaFor('e2e')
    const rig = await startLogsRig(() => ({ content: true, postgres: { url: url!, schema } }))
    try {
      const word = uniqueWord('pgfallback')
      const { response } = await rig.client.chat.completions.create({ model: 'chain', messages: [{ role: 'user', content: `[chain-alpha: error 503] about ${word}` }] }).withResponse()
      const id = response.headers.get('x-request-id')!
      await rig.entry(id)
      const found = await rig.admin(`/requests?q=${word}`)
      expect(found.body.data.map((e: any) => e.id)).toEqual([id])
      const detail = (await rig.admin(`/requests/${id}`)).body
      expect(detail.attemptList.map((a: any) => [a.provider, a.model, a.status])).toEqual([['a', 'chain-alpha', 503], ['b', 'chain-beta', 200]])
      expect(detail.content.response.text).toContain(word)
      const stored = await admin.query(`SELECT status, provider, has_content FROM "${schema}".request_logs WHERE id = $1`, [id])
      expect(stored.rows).toEqual([{ status: 200, provider: 'b', has_content: 1 }])
    } finally {
      await rig.close()
    }
  })

  it('a database outage: entries spill to disk (requests unaffected); a later start replays them, each once', async () => {
    const schema = schemaFor('spill')
    const down = await closedPortUrl()
    const first = await startLogsRig((dir) => ({ content: true, postgres: { url: down, schema }, spillFile: join(dir, 'spill.jsonl'), queueSize: 2 }))
    const spillFile = join(first.dir, 'spill.jsonl')
    const word = uniqueWord('outage')
    const ids: string[] = []
    try {
      for (let i = 0; i < 5; i++) {
        const { response, data } = await first.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: `${word} ${i}` }] }).withResponse()
        expect(data.choices[0]!.message.content).toContain(word)
        ids.push(response.headers.get('x-request-id')!)
      }
      expect((await first.admin(`/requests?q=${word}`)).status).toBe(503)
      // Closing spills whatever is still queued: every entry is on disk, none is lost.
      await first.gw.close()
      const spilled = readdirSync(first.dir).filter((f) => f.startsWith('spill.jsonl'))
        .flatMap((f) => readFileSync(join(first.dir, f), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line).r.id))
      expect([...spilled].sort()).toEqual([...ids].sort())

      // Later, against the real database, with the same spill file: the entries are replayed.
      const second = await startLogsRig(() => ({ content: true, postgres: { url: url!, schema }, spillFile }))
      try {
        await expect.poll(async () => (await second.admin(`/requests?q=${word}`)).body.data?.length, { timeout: 15_000 }).toBe(5)
        const { rows } = await admin.query(`SELECT COUNT(*)::int AS n FROM "${schema}".request_logs WHERE id = ANY($1)`, [ids])
        expect(rows[0].n).toBe(5)
        const detail = (await second.admin(`/requests/${ids[0]}`)).body
        expect(detail.content.request.messages[0].text).toBe(`${word} 0`)
      } finally {
        await second.close()
      }
    } finally {
      await first.close().catch(() => {})
    }
  })
})
