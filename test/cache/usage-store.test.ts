/** The usage stores keep what the cache says of a request: `cached`, and the USD it saved (SQLite, and Postgres when DATABASE_URL is set). */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { cache } from '../../plugins/cache/index.ts'
import { usage } from '../../plugins/usage/index.ts'
import { openai } from '../../plugins/providers/index.ts'
import { createTestGateway } from '../../testing/index.ts'
import { startMockOpenAI } from '../fixtures/mock-openai.ts'
import { uniquePrompt } from './helpers.ts'

const databaseUrl = process.env.DATABASE_URL
const dir = mkdtempSync(join(tmpdir(), 'sluice-cache-usage-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A miss and a hit of the same question through usage() with the given store; their request ids. */
async function missThenHit(usagePlugin: ReturnType<typeof usage>) {
  const mock = await startMockOpenAI()
  const gw = await createTestGateway({ plugins: [openai({ apiKey: 'sk-test-upstream-cache-000000', baseURL: mock.url }), usagePlugin, cache()] })
  const body = { model: 'openai/gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content: uniquePrompt('recorded') }] }
  const miss = await gw.chat(body)
  const hit = await gw.chat(body)
  expect([miss.headers.get('x-sluice-cache'), hit.headers.get('x-sluice-cache')]).toEqual(['miss', 'hit'])
  await gw.waitForRecords(2)
  await gw.close() // writes whatever the recorder still holds
  await mock.close()
  return { miss: miss.headers.get('x-request-id')!, hit: hit.headers.get('x-request-id')! }
}

describe('usage stores keep cached and saved_usd', () => {
  it('SQLite', async () => {
    const file = join(dir, 'usage.db')
    const ids = await missThenHit(usage({ sqlite: { file }, spillFile: join(dir, 'spill.jsonl') }))
    const db = new Database(file, { readonly: true })
    const row = (id: string) => db.prepare('SELECT cached, saved_usd, cost_usd FROM usage_records WHERE id = ?').get(id) as { cached: number; saved_usd: number; cost_usd: number }
    const miss = row(ids.miss)
    const hit = row(ids.hit)
    db.close()
    expect(miss).toMatchObject({ cached: 0, saved_usd: 0 })
    expect(miss.cost_usd).toBeGreaterThan(0) // gpt-4o-mini is in the shipped price table
    expect(hit).toEqual({ cached: 1, saved_usd: miss.cost_usd, cost_usd: 0 })
  })

  it.skipIf(!databaseUrl)('Postgres', async () => {
    const schema = `sluice_cache_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const admin = new pg.Client({ connectionString: databaseUrl })
    await admin.connect()
    try {
      const ids = await missThenHit(usage({ store: 'postgres', postgres: { url: databaseUrl, schema }, spillFile: join(dir, 'spill-pg.jsonl') }))
      const row = async (id: string) => (await admin.query(`SELECT cached, saved_usd, cost_usd FROM "${schema}".usage_records WHERE id = $1`, [id])).rows[0]
      const miss = await row(ids.miss)
      expect(miss).toMatchObject({ cached: 0, saved_usd: 0 })
      expect(miss.cost_usd).toBeGreaterThan(0)
      expect(await row(ids.hit)).toEqual({ cached: 1, saved_usd: miss.cost_usd, cost_usd: 0 })
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await admin.end()
    }
  })
})
