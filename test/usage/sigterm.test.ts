/**
 * The "done when": a gateway process under load with faults injected gets SIGTERM while requests are in
 * flight, exits 0, and its store then holds exactly one record per request it accepted (answered with headers,
 * error statuses included; a connection refused after the signal was not accepted), with the upstream's tokens
 * and the pricing table's cost. Once on SQLite; once on Postgres with the store cut mid-run, so the records
 * spill to disk at shutdown and a restart replays them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually } from '../helpers/gateway.ts'
import { tableCost } from './e2e-helpers.ts'
import { tempDir } from './helpers.ts'
import { loadWithSigterm, send, startGatewayProcess, upstreamUsage, type Child, type Outcome } from './load.ts'
import { TcpProxy } from './tcp-proxy.ts'

const CONFIG = 'test/configs/usage-sigterm.config.ts'

interface Row {
  id: string; status: number; outcome: string; input_tokens: number; output_tokens: number; cached_tokens: number
  estimated: number; cost_usd: number; provider: string; upstream_model: string
}

let mock: MockOpenAI
let dir: ReturnType<typeof tempDir>
const children: Child[] = []

beforeAll(async () => {
  mock = await startMockOpenAI()
})
afterAll(async () => {
  await mock?.close()
})
afterEach(() => {
  for (const { child } of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  dir?.cleanup()
})

async function start(env: Record<string, string>): Promise<Child> {
  const child = await startGatewayProcess(CONFIG, { MOCK_OPENAI_URL: mock.url, USAGE_SPILL_FILE: join(dir.dir, 'spill.jsonl'), ...env })
  children.push(child)
  return child
}

/** One record per accepted request, none for the others, each with the upstream's tokens and the table's cost. */
function verify(outcomes: Outcome[], rows: Row[]) {
  const accepted = outcomes.filter((o) => o.accepted)
  const byId = new Map(rows.map((row) => [row.id, row]))
  expect(new Set(accepted.map((o) => o.id)).size).toBe(accepted.length)
  expect(rows.length).toBe(accepted.length)
  for (const outcome of accepted) {
    const row = byId.get(outcome.id!)
    const what = `${outcome.kind} "${outcome.text}" (${outcome.id})`
    expect(row, what).toBeDefined()
    const tokens = { input: Number(row!.input_tokens), output: Number(row!.output_tokens), cached: Number(row!.cached_tokens) }
    expect(row!.provider, what).toBe('openai')
    expect(row!.upstream_model, what).toBe('gpt-4o-mini')
    expect(Number(row!.cost_usd), what).toBeCloseTo(tableCost('gpt-4o-mini', tokens), 15)
    switch (outcome.kind) {
      case 'plain':
      case 'stream':
      case 'long': {
        const reported = upstreamUsage(outcome.text)
        expect(Number(row!.status), what).toBe(200)
        expect(outcome.clientUsage, what).toMatchObject({ prompt_tokens: reported.prompt_tokens, completion_tokens: reported.completion_tokens })
        expect(tokens, what).toEqual({ input: reported.prompt_tokens, output: reported.completion_tokens, cached: 0 })
        expect(Number(row!.estimated), what).toBe(0)
        break
      }
      case 'error':
        expect(Number(row!.status), what).toBe(outcome.status)
        expect(Number(row!.status), what).toBeGreaterThanOrEqual(500)
        expect(tokens, what).toEqual({ input: 0, output: 0, cached: 0 })
        break
      case 'die':
        expect(Number(row!.status), what).toBe(502)
        expect(Number(row!.estimated), what).toBe(1)
        expect(tokens.output, what).toBeGreaterThan(0)
        break
      case 'abort':
        expect(Number(row!.status), what).toBe(499)
        expect(row!.outcome, what).toBe('client_abort')
        expect(Number(row!.estimated), what).toBe(1)
        break
    }
  }
}

function expectShutdownUnderLoad(outcomes: Outcome[], code: number | null) {
  expect(code).toBe(0)
  // Long streams were in flight when the signal came, and they finished.
  expect(outcomes.filter((o) => o.kind === 'long' && o.accepted && o.status === 200).length).toBeGreaterThan(0)
  // Requests after the signal found the door closed.
  expect(outcomes.some((o) => !o.accepted)).toBe(true)
}

describe('an upstream 500 with the development logger', () => {
  // Fails until the core stops treating an upstream 500 as "unexpected" and logging `undefined` (the redacting
  // reporter of core/logger.ts throws on it): the client then gets h3's bare 500, no x-request-id, and no record.
  it('is answered by the pipeline and recorded', async () => {
    dir = tempDir('sluice-sigterm-dev-')
    const file = join(dir.dir, 'usage.db')
    const gateway = await start({ USAGE_SQLITE_FILE: file, NODE_ENV: 'test' })
    const outcome = await send(gateway.url, 'error')
    gateway.child.kill('SIGTERM')
    expect(await gateway.exited).toBe(0)
    expect(outcome).toMatchObject({ accepted: true, status: 500 })
    expect(outcome.id).toMatch(/^req_/)
    const db = new Database(file, { readonly: true })
    try {
      verify([outcome], db.prepare('SELECT * FROM usage_records').all() as Row[])
    } finally {
      db.close()
    }
  })
})

const spillFiles = () => readdirSync(dir.dir).filter((name) => name.startsWith('spill'))
const spillLines = () => spillFiles().reduce((n, name) => n + readFileSync(join(dir.dir, name), 'utf8').split('\n').filter(Boolean).length, 0)

describe('SIGTERM under load, SQLite', () => {
  it('records exactly the accepted requests, with upstream tokens and table cost', async () => {
    dir = tempDir('sluice-sigterm-')
    const file = join(dir.dir, 'usage.db')
    const gateway = await start({ USAGE_SQLITE_FILE: file })
    const { outcomes, code } = await loadWithSigterm(gateway)
    expectShutdownUnderLoad(outcomes, code)
    expect(spillLines()).toBe(0) // the store was up: nothing needed the disk
    const db = new Database(file, { readonly: true })
    try {
      verify(outcomes, db.prepare('SELECT * FROM usage_records').all() as Row[])
    } finally {
      db.close()
    }
  })
})

const url = process.env.DATABASE_URL
if (!url) console.warn('[test/usage/sigterm] DATABASE_URL is not set: skipping the Postgres SIGTERM run')

describe.skipIf(!url)('SIGTERM under load, Postgres with the store cut mid-run', () => {
  const schema = `sluice_sigterm_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  let admin: pg.Client
  let proxy: TcpProxy

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url })
    await admin.connect()
    const target = new URL(url!)
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432))
    await proxy.start()
  })
  afterAll(async () => {
    await proxy?.stop()
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin?.end()
  })

  const rows = async () => (await admin.query(`SELECT * FROM "${schema}".usage_records`)).rows as Row[]

  it('spills what the store could not take at shutdown, and a restart replays it: one record per accepted request', async () => {
    dir = tempDir('sluice-sigterm-pg-')
    const proxied = new URL(url!)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(proxy.port)
    const env = { USAGE_PG_URL: proxied.toString(), USAGE_PG_SCHEMA: schema }

    const gateway = await start(env)
    // A first wave reaches the store...
    const first = await Promise.all((['plain', 'stream', 'error', 'die'] as const).map((kind) => send(gateway.url, kind)))
    await eventually(async () => expect((await rows()).length).toBe(first.filter((o) => o.accepted).length), 10_000)
    // ...then the store goes away, and the gateway is stopped under load.
    await proxy.stop()
    const { outcomes, code } = await loadWithSigterm(gateway)
    expectShutdownUnderLoad(outcomes, code)
    const all = [...first, ...outcomes]
    const accepted = all.filter((o) => o.accepted).length
    expect((await rows()).length).toBe(first.filter((o) => o.accepted).length)
    expect(spillLines()).toBe(accepted - first.length)

    // The store is back: a restart replays the spill, and nothing is counted twice.
    await proxy.start()
    const again = await start(env)
    await eventually(async () => expect((await rows()).length).toBe(accepted), 15_000)
    again.child.kill('SIGTERM')
    expect(await again.exited).toBe(0)
    expect(spillLines()).toBe(0)
    verify(all, await rows())
    expect(existsSync(join(dir.dir, 'spill.jsonl')) ? readFileSync(join(dir.dir, 'spill.jsonl'), 'utf8') : '').toBe('')
  })
})
