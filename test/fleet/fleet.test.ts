/**
 * Three gateway replicas (`sluice start` processes) behind nginx (deploy/nginx.conf), sharing Redis and Postgres,
 * driven by the official `openai` client with streamed and whole answers: one rate limit, one key list, no
 * request lost in a rolling SIGTERM restart, one usage record per answered request, and what a `kill -9` costs (its
 * unwritten records come back from its journal when it restarts).
 * Needs nginx (Debian's nginx-light, installed by .ci/run), REDIS_URL and DATABASE_URL; skips with a message
 * otherwise. Everything it writes is under a per-run Redis prefix and Postgres schema, removed at the end.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chat, clientFor, findNginx, freePort, load, Replica, sleep, startNginx, type Nginx, type Outcome } from './fleet.ts'

const nginxBinary = findNginx()
const redisUrl = process.env.REDIS_URL
const databaseUrl = process.env.DATABASE_URL
const missing = [!nginxBinary && 'nginx (apt-get install nginx-light)', !redisUrl && 'REDIS_URL', !databaseUrl && 'DATABASE_URL'].filter(Boolean)
if (missing.length) console.warn(`[test/fleet] skipping the fleet test: ${missing.join(', ')} missing`)

const RPM = 30
const run = `${process.pid}_${randomBytes(3).toString('hex')}`
const prefix = `sluice-fleet-${run}`
const schema = `sluice_fleet_${run}`
const adminKey = `fleet-admin-${randomBytes(12).toString('hex')}`
const keys = { load: `sk-fleet-load-${randomBytes(12).toString('hex')}`, limited: `sk-fleet-limited-${randomBytes(12).toString('hex')}` }

describe.skipIf(missing.length > 0)('a fleet of three replicas behind nginx on Redis and Postgres', () => {
  let nginx: Nginx
  let replicas: Replica[]
  let db: pg.Client
  let spillDir: string

  beforeAll(async () => {
    spillDir = mkdtempSync(join(tmpdir(), 'sluice-fleet-spill-'))
    const env = (name: string): Record<string, string> => ({
      SLUICE_FLEET_PREFIX: prefix, SLUICE_FLEET_SCHEMA: schema, SLUICE_FLEET_ADMIN_KEY: adminKey, SLUICE_FLEET_RPM: String(RPM),
      SLUICE_FLEET_KEY_LOAD: keys.load, SLUICE_FLEET_KEY_LIMITED: keys.limited, SLUICE_FLEET_SPILL: join(spillDir, `${name}.jsonl`),
    })
    const ports = [await freePort(), await freePort(), await freePort()]
    replicas = ports.map((port, i) => new Replica(`r${i + 1}`, port, env(`r${i + 1}`)))
    // One first, so the usage schema is created once, then the others.
    await replicas[0]!.start()
    await Promise.all(replicas.slice(1).map((r) => r.start()))
    nginx = await startNginx(nginxBinary!, ports)
    db = new pg.Client({ connectionString: databaseUrl })
    await db.connect()
  }, 120_000)

  afterAll(async () => {
    await Promise.all((replicas ?? []).map((r) => r.stop('SIGKILL')))
    await nginx?.stop()
    if (db) {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await db.end()
    }
    const redis = new Redis(redisUrl!)
    let cursor = '0'
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (found.length) await redis.del(...found)
    } while (cursor !== '0')
    await redis.quit()
    if (spillDir) rmSync(spillDir, { recursive: true, force: true })
  }, 60_000)

  /** Usage rows per client correlation id, for the ids given. */
  async function recordsFor(outcomes: Outcome[]): Promise<Map<string, number>> {
    const { rows } = await db.query(`SELECT client_request_id AS cid, count(*)::int AS n FROM "${schema}".usage_records WHERE client_request_id = ANY($1) GROUP BY 1`, [outcomes.map((o) => o.cid)])
    return new Map(rows.map((row: { cid: string; n: number }) => [row.cid, row.n]))
  }

  /** Waits (bounded) until every answered request has its record; then each has exactly one. */
  async function expectOneRecordEach(answered: Outcome[]): Promise<void> {
    const deadline = Date.now() + 20_000
    let records = await recordsFor(answered)
    while (records.size < answered.length && Date.now() < deadline) {
      await sleep(250)
      records = await recordsFor(answered)
    }
    const without = answered.filter((o) => !records.has(o.cid))
    expect(without.map((o) => o.cid), 'answered requests without a usage record').toEqual([])
    const doubled = [...records].filter(([, n]) => n !== 1)
    expect(doubled, 'requests recorded more than once').toEqual([])
  }

  /** nginx's errors other than the refused connections it retries on another replica. */
  const nginxErrors = () => nginx.errors().split('\n').filter((line) => line && !/Connection refused|temporarily disabled/.test(line)).slice(-20).join('\n')

  const summary = (outcomes: Outcome[]) => {
    const failed = outcomes.filter((o) => !o.ok)
    return `${outcomes.length} requests (${outcomes.filter((o) => o.stream).length} streamed), ${failed.length} failed`
      + (failed.length ? `: ${[...new Set(failed.map((o) => `${o.status ?? '-'} ${o.error}`))].slice(0, 5).join(' | ')}` : '')
  }

  it(`a key limited to ${RPM} requests per minute gets ${RPM} across the fleet`, async () => {
    const client = clientFor(nginx.url, keys.limited)
    const started = performance.now()
    const outcomes: Outcome[] = []
    await Promise.all(Array.from({ length: 6 }, async () => {
      for (let i = 0; i < RPM / 3; i++) outcomes.push(await chat(client, { stream: i % 2 === 0, words: 2 }))
    }))
    const spanMs = performance.now() - started
    const admitted = outcomes.filter((o) => o.ok).length
    // GCRA: the whole minute's allowance at once, then one more per 60/RPM s of the run.
    const most = RPM + Math.floor((spanMs * RPM) / 60_000)
    console.info(`[fleet] key at ${RPM} rpm: ${admitted} of ${outcomes.length} admitted over 3 replicas in ${spanMs.toFixed(0)} ms (expected ${RPM}..${most})`)
    expect(outcomes.length).toBe(RPM * 2)
    expect(admitted).toBeGreaterThanOrEqual(RPM)
    expect(admitted).toBeLessThanOrEqual(most)
    for (const o of outcomes.filter((o) => !o.ok)) expect(o.status).toBe(429)
  }, 60_000)

  it('a revoked key is refused by every replica within 1 s', async () => {
    const created = await fetch(`${nginx.url}/admin/keys`, {
      method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'to-revoke' }),
    })
    expect(created.status).toBe(201)
    const { id, key } = await created.json() as { id: string; key: string }
    // Every replica has used (and cached) the key.
    for (const replica of replicas) expect((await chat(clientFor(replica.url, key), { stream: false, words: 1 })).ok).toBe(true)

    const revoked = await fetch(`${replicas[0]!.url}/admin/keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminKey}` } })
    expect(revoked.status).toBe(200)
    const at = performance.now()
    const tookMs = await Promise.all(replicas.map(async (replica) => {
      for (;;) {
        const outcome = await chat(clientFor(replica.url, key), { stream: false, words: 1 })
        if (outcome.status === 401) return performance.now() - at
        if (performance.now() - at > 5000) return Infinity
        await sleep(20)
      }
    }))
    console.info(`[fleet] revocation refused by the replicas after ${tookMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`)
    for (const ms of tookMs) expect(ms).toBeLessThan(1000)
  }, 30_000)

  it('a changed alias is served by every replica within 1 s (live config over Redis pub/sub)', async () => {
    const providerOf = async (url: string) => {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${keys.load}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fleet-model', messages: [{ role: 'user', content: 'which' }] }),
      })
      await response.text()
      return response.headers.get('x-sluice-provider')
    }
    for (const replica of replicas) expect(await providerOf(replica.url)).toBe('echo')
    const changed = await fetch(`${nginx.url}/admin/config`, {
      method: 'PUT', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', 'x-sluice-actor': 'fleet-test' },
      body: JSON.stringify({ overlay: { router: { models: { 'fleet-model': ['alt/m'] } } } }),
    })
    expect(changed.status).toBe(201)
    const at = performance.now()
    const tookMs = await Promise.all(replicas.map(async (replica) => {
      while (performance.now() - at < 5000) {
        if (await providerOf(replica.url) === 'alt') return performance.now() - at
        await sleep(20)
      }
      return Infinity
    }))
    console.info(`[fleet] alias change served by the replicas after ${tookMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`)
    for (const ms of tookMs) expect(ms).toBeLessThan(1000)
    // A replica restarted later starts on the current version.
    expect(await replicas[2]!.stop('SIGTERM')).toBe(0)
    await replicas[2]!.start()
    expect(await providerOf(replicas[2]!.url)).toBe('alt')
  }, 60_000)

  it('one dashboard and one set of metrics: every replica counts the fleet\'s requests and names each replica', async () => {
    const admin = async (replica: Replica, path: string) => (await fetch(`${replica.url}/admin${path}`, { headers: { authorization: `Bearer ${adminKey}` } })).json()
    const totals = () => Promise.all(replicas.map(async (r) => (await admin(r, '/dashboard/overview?range=hour')).totals.requests as number))
    // The previous tests' last records may still wait for their batch (up to the writer's flush interval, 250 ms):
    // count from a moment when the totals stand still.
    let before = await totals()
    for (let settled = false; !settled;) {
      await sleep(600)
      const again = await totals()
      settled = again.every((n, i) => n === before[i])
      before = again
    }
    const client = clientFor(nginx.url, keys.load)
    const sent = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(client, { stream: i % 2 === 0, words: 3 })))
    expect(sent.filter((o) => !o.ok)).toEqual([])
    // Spread over the replicas by nginx, counted by each of them.
    expect(new Set(sent.map((o) => o.upstream)).size).toBeGreaterThan(1)
    const deadline = Date.now() + 10_000
    let after = await totals()
    while (after.some((n, i) => n - before[i]! < 30) && Date.now() < deadline) {
      await sleep(100)
      after = await totals()
    }
    expect(after.map((n, i) => n - before[i]!)).toEqual([30, 30, 30])
    const fleet = await admin(replicas[0]!, '/dashboard/fleet')
    expect(fleet.replicas.map((r: { replica: string }) => r.replica)).toEqual(['r1', 'r2', 'r3'])
    for (const replica of replicas) {
      const text = await (await fetch(`${replica.url}/metrics`)).text()
      expect(text).toMatch(new RegExp(`^sluice_requests_total\\{[^}]*replica="${replica.name}"`, 'm'))
    }
    console.info(`[fleet] dashboard: each replica counted the 30 requests spread over ${new Set(sent.map((o) => o.upstream)).size} replicas`)
  }, 60_000)

  it('a rolling SIGTERM restart of all three under load fails no client request; one usage record per request', async () => {
    const traffic = load(clientFor(nginx.url, keys.load), 16)
    await sleep(1000)
    const drains: string[] = []
    for (const replica of replicas) {
      const signalled = performance.now()
      expect(await replica.stop('SIGTERM')).toBe(0)
      drains.push(`${replica.name} ${(performance.now() - signalled).toFixed(0)} ms`)
      await replica.start()
      await sleep(2500) // nginx tries a replica it skipped again after fail_timeout (2 s)
    }
    await sleep(500)
    const outcomes = await traffic.stop()
    console.info(`[fleet] rolling restart: ${summary(outcomes)}; SIGTERM to exit: ${drains.join(', ')}`)
    if (outcomes.some((o) => !o.ok)) console.info(`[fleet] nginx's error log:\n${nginxErrors()}`)
    expect(outcomes.length).toBeGreaterThan(100)
    expect(outcomes.filter((o) => !o.ok).map((o) => `${o.cid}: ${o.status ?? '-'} ${o.error}`)).toEqual([])
    await expectOneRecordEach(outcomes)
  }, 120_000)

  it('kill -9 of one replica under load: the other two keep serving; every answered request has its record', async () => {
    const traffic = load(clientFor(nginx.url, keys.load), 16)
    await sleep(1000)
    const victim = replicas[1]!
    const before = traffic.outcomes.length
    await victim.stop('SIGKILL')
    await sleep(2000)
    const afterKill = traffic.outcomes.length
    await sleep(1500)
    const outcomes = await traffic.stop()
    const failed = outcomes.filter((o) => !o.ok)
    // Served throughout: answers kept coming after the kill, and the late ones all succeeded.
    expect(afterKill).toBeGreaterThan(before)
    expect(outcomes.slice(afterKill).filter((o) => !o.ok)).toEqual([])
    // At most what could have been in flight on it (16 clients).
    expect(failed.length).toBeLessThanOrEqual(16)

    // Every request answered by a replica that lived has its record, once.
    const answered = outcomes.filter((o) => o.ok)
    const onVictim = (o: Outcome) => o.upstream === `127.0.0.1:${victim.port}`
    for (const o of answered) expect(o.upstream, o.cid).toMatch(/^127\.0\.0\.1:\d+$/)
    await expectOneRecordEach(answered.filter((o) => !onVictim(o)))
    // The killed one's: those whose record it had written have it once; the rest were still in its write-behind
    // queue (records are written after the answer, in batches every 250 ms), but each is in its write-ahead
    // journal, which the replica replays when it starts again.
    const victims = answered.filter(onVictim)
    const before9 = await recordsFor(victims)
    for (const [cid, n] of before9) expect(n, cid).toBe(1)
    console.info(`[fleet] kill -9 of ${victim.name}: ${summary(outcomes)}; of ${victims.length} answered by it, ${victims.length - before9.size} had no record until it restarted`)
    if (failed.length) console.info(`[fleet] nginx's error log:\n${nginxErrors()}`)
    await victim.start()
    await expectOneRecordEach(answered)
  }, 60_000)
})
