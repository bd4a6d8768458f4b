/**
 * The "done when", end to end: gateway PROCESSES sharing one Redis hand a key limited to 100 requests
 * per minute exactly its 100, however many replicas serve it, and every 429 says when to come back.
 *
 * Expected counts: with rpm R and the default burst R, a key gets R at once and one more every 60 000 / R ms
 * after the first admission, so over a hammering that spans D ms it gets at least R and at most
 * R + floor(D · R / 60 000) — whatever the number of replicas (each with its own count it would be R per
 * replica). For rpm 100 the hammering (a fixed number of requests) spans well under 1.2 s on a normal
 * machine, so the bound reads 100 or 101: within 1 % of the configured 100. The span is printed.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startReplicas, type GatewayProcess } from './gateway-process.ts'
import { chatOnce, clientFor, hammer, sleep, type Outcome } from './hammer.ts'

const url = process.env.REDIS_URL
if (!url) console.warn('[governor] REDIS_URL is not set: skipping the multi-process governor tests')

const REPLICAS = 3
/** A cap on the hammering's length, far above what it takes: the counts are checked against the real span. */
const WINDOW_MS = 20_000
const keyOf = (name: string) => `sk-test-governor-${name}-${randomBytes(12).toString('hex')}`

/** The admitted count a rate of `perMinute` (burst = perMinute) allows in `spanMs`: [least, most]. */
function expectedRange(perMinute: number, spanMs: number): [number, number] {
  return [perMinute, perMinute + Math.floor((spanMs * perMinute) / 60_000)]
}

function expectWellFormed429(outcome: Outcome, perMinute: number): void {
  const intervalMs = 60_000 / perMinute
  expect(outcome.status, JSON.stringify(outcome.error)).toBe(429)
  const ms = Number(outcome.headers.get('retry-after-ms'))
  const seconds = Number(outcome.headers.get('retry-after'))
  // The next slot opens at most one emission interval after any refusal.
  expect(ms).toBeGreaterThan(0)
  expect(ms).toBeLessThanOrEqual(Math.ceil(intervalMs))
  expect(seconds).toBe(Math.max(1, Math.ceil(ms / 1000)))
  expect(outcome.headers.get('x-ratelimit-limit-requests')).toBe(String(perMinute))
  expect(outcome.headers.get('x-ratelimit-remaining-requests')).toBe('0')
  expect(outcome.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d/)
  expect(outcome.error?.type).toBe('rate_limit_error')
  expect(outcome.error?.code).toBe('rate_limit_exceeded')
  expect(outcome.error?.message).toContain(`${perMinute} requests per minute`)
}

describe.skipIf(!url)(`governor across ${REPLICAS} gateway processes sharing Redis`, () => {
  const prefix = `sluice-test:gov-e2e:${randomUUID()}:`
  const keys = { hundred: keyOf('hundred'), thirty: keyOf('thirty'), fifty: keyOf('fifty'), warm: keyOf('warm') }
  let gateways: GatewayProcess[] = []

  beforeAll(async () => {
    gateways = await startReplicas(REPLICAS, 'test/configs/governor-replicas.config.ts', {
      SLUICE_GOV_REDIS_URL: url!,
      SLUICE_GOV_PREFIX: prefix,
      SLUICE_GOV_KEY_HUNDRED: keys.hundred,
      SLUICE_GOV_KEY_THIRTY: keys.thirty,
      SLUICE_GOV_KEY_FIFTY: keys.fifty,
      SLUICE_GOV_KEY_WARM: keys.warm,
    })
    // Warm each process's whole request path (lazy imports, JIT, the Redis script load) on a key of its own.
    await Promise.all(
      gateways.map(async (gateway) => {
        const client = clientFor(gateway.url, keys.warm)
        for (let i = 0; i < 30; i++) expect((await chatOnce(client)).status).toBe(200)
      }),
    )
  }, 60_000)

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()))
    const client = new Redis(url!)
    let cursor = '0'
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (found.length) await client.del(...found)
    } while (cursor !== '0')
    await client.quit()
  })

  it('a key limited to 100 per minute gets 100 across all replicas; each 429 says exactly when to come back', async () => {
    const clients = gateways.map((g) => clientFor(g.url, keys.hundred))
    const { outcomes, spanMs } = await hammer(clients, { workers: 8, total: 180, windowMs: WINDOW_MS })
    const admitted = outcomes.filter((o) => o.status === 200)
    const refused = outcomes.filter((o) => o.status !== 200)
    const [least, most] = expectedRange(100, spanMs)
    console.info(`[governor e2e] ${outcomes.length} requests over ${REPLICAS} replicas in ${spanMs.toFixed(0)} ms: ${admitted.length} admitted (expected ${least}..${most})`)

    expect(outcomes.length).toBe(180) // hammered well past the limit
    expect(admitted.length).toBeGreaterThanOrEqual(least)
    expect(admitted.length).toBeLessThanOrEqual(most)
    for (const outcome of admitted) expect(outcome.headers.get('x-ratelimit-limit-requests')).toBe('100')
    for (const outcome of refused) expectWellFormed429(outcome, 100)

    // Coming back when told: ask once more (a refusal, unless a slot opened meanwhile), wait exactly
    // retry-after-ms, and the next request, sent to another replica, is admitted.
    let probe = await chatOnce(clients[0]!)
    for (let i = 0; probe.status === 200 && i < 3; i++) probe = await chatOnce(clients[0]!)
    expectWellFormed429(probe, 100)
    const waitMs = Number(probe.headers.get('retry-after-ms'))
    await sleep(Math.max(0, probe.at + waitMs - performance.now()))
    const comeback = await chatOnce(clients[1]!)
    expect(comeback.status).toBe(200)
    expect(comeback.headers.get('x-ratelimit-limit-requests')).toBe('100')
  })

  it('per-key limits from the keys plugin (ctx.principal.limits) hold across replicas, each key its own bucket', async () => {
    const thirty = gateways.map((g) => clientFor(g.url, keys.thirty))
    const fifty = gateways.map((g) => clientFor(g.url, keys.fifty))
    const [a, b] = await Promise.all([hammer(thirty, { workers: 4, total: 60, windowMs: WINDOW_MS }), hammer(fifty, { workers: 4, total: 90, windowMs: WINDOW_MS })])
    const count = (outcomes: Outcome[]) => outcomes.filter((o) => o.status === 200).length
    const [least30, most30] = expectedRange(30, a.spanMs)
    const [least50, most50] = expectedRange(50, b.spanMs)
    console.info(`[governor e2e] key rpm 30: ${count(a.outcomes)}/${a.outcomes.length} admitted; key rpm 50: ${count(b.outcomes)}/${b.outcomes.length}`)

    expect(a.outcomes.length).toBe(60)
    expect(b.outcomes.length).toBe(90)
    expect(count(a.outcomes)).toBeGreaterThanOrEqual(least30)
    expect(count(a.outcomes)).toBeLessThanOrEqual(most30)
    expect(count(b.outcomes)).toBeGreaterThanOrEqual(least50)
    expect(count(b.outcomes)).toBeLessThanOrEqual(most50)
    for (const outcome of a.outcomes.filter((o) => o.status !== 200)) {
      expectWellFormed429(outcome, 30)
      expect(outcome.error?.message).toContain('for key cfg.thirty')
    }
    for (const outcome of b.outcomes.filter((o) => o.status !== 200)) {
      expectWellFormed429(outcome, 50)
      expect(outcome.error?.message).toContain('for key cfg.fifty')
    }
  })
})
