import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { registry } from '../../core/metrics.ts'
import { realClock } from '../../core/clock.ts'
import type { GovernorOptions } from '../../plugins/governor/index.ts'
import { defineGcraSuite } from './gcra-suite.ts'
import { capturedLogger, startGovernor, type GovernorRig } from './helpers.ts'
import { freePort, RedisChild } from './redis-server.ts'

const url = process.env.REDIS_URL
if (!url) console.warn('[governor] REDIS_URL is not set: skipping the Redis store tests')

const runPrefix = `sluice-test:gov:${randomUUID()}:`
let prefixSeq = 0
const freshPrefix = () => `${runPrefix}${++prefixSeq}:`

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) return 0
  const { values } = await metric.get()
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0)
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, attempts = 100): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe()
    if (value !== undefined) return value
    await realClock.sleep(100)
  }
  throw new Error(`gave up waiting for ${what}`)
}

describe.skipIf(!url)('governor on the Redis store', () => {
  afterAll(async () => {
    const client = new Redis(url!)
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length) await client.del(...keys)
    } while (cursor !== '0')
    await client.quit()
  })

  describe('GCRA properties (virtual clock passed to the script)', () => {
    defineGcraSuite(() => ({ redis: url!, prefix: freshPrefix() }))
  })

  describe('against Redis TIME, shared by several governors (replicas in one process)', () => {
    const teardowns: Array<() => Promise<void>> = []
    afterEach(async () => {
      while (teardowns.length) await teardowns.pop()!()
    })

    /** Governors on one Redis, each on its own plugin host, as replicas would be. */
    async function replicas(n: number, options: GovernorOptions): Promise<GovernorRig[]> {
      const rigs: GovernorRig[] = []
      for (let i = 0; i < n; i++) {
        const rig = await startGovernor(options, { clock: realClock })
        teardowns.push(rig.close)
        rigs.push(rig)
      }
      return rigs
    }

    it('60 concurrent decisions across 3 replicas admit exactly the configured 10', async () => {
      const prefix = freshPrefix()
      // 10 per minute with the default burst: 10 pass at once, the 11th only 6 s later.
      const govs = await replicas(3, { store: { redis: url!, prefix }, perKey: { rpm: 10 } })
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => govs[i % 3]!.limit({ key: 'shared' })))
      const refused = results.filter((r) => r !== undefined)
      expect(60 - refused.length).toBe(10)
      for (const r of refused) {
        expect(r!.status).toBe(429)
        expect(r!.retryAfter).toBeGreaterThanOrEqual(1)
        expect(r!.retryAfter).toBeLessThanOrEqual(6)
      }
    })

    it('a closing instance (hot reload) gives back the slots of requests still running', async () => {
      const prefix = freshPrefix()
      const options = { store: { redis: url!, prefix }, perKey: { maxConcurrent: 2 } }
      const old = await startGovernor(options, { clock: realClock })
      const running = [old.request({ key: 'k' }), old.request({ key: 'k' })]
      for (const ctx of running) expect(await old.limit(ctx)).toBeUndefined()
      const [fresh] = await replicas(1, options)
      expect((await fresh!.limit({ key: 'k' }))?.status).toBe(429)
      await old.close()
      for (const ctx of running) await old.finish(ctx) // their settle functions are no-ops now
      const results = await Promise.all([1, 2, 3].map(() => fresh!.limit({ key: 'k' })))
      expect(results.filter((r) => r === undefined)).toHaveLength(2)
    })

    it('80 concurrent decisions across 2 replicas hold at most maxConcurrent slots, and release them', async () => {
      const prefix = freshPrefix()
      const govs = await replicas(2, { store: { redis: url!, prefix }, perKey: { maxConcurrent: 7 } })
      const contexts = Array.from({ length: 80 }, () => govs[0]!.request({ key: 'shared' }))
      const results = await Promise.all(contexts.map((ctx, i) => govs[i % 2]!.limit(ctx)))
      const admitted = contexts.filter((_, i) => results[i] === undefined)
      expect(admitted.length).toBe(7)
      // Each request is ended by the replica that admitted it, as the pipeline would: its settle function.
      await Promise.all(admitted.map((ctx) => govs[contexts.indexOf(ctx) % 2]!.finish(ctx)))
      const again = await Promise.all(Array.from({ length: 20 }, (_, i) => govs[i % 2]!.limit({ key: 'shared' })))
      expect(again.filter((r) => r === undefined).length).toBe(7)
    })
  })

  describe('outages', () => {
    const teardowns: Array<() => Promise<void>> = []
    afterEach(async () => {
      while (teardowns.length) await teardowns.pop()!()
    })

    it('fails closed with an honest 503 and a retry-after, logging one line for many requests', async () => {
      const log = capturedLogger()
      const gov = await startGovernor({ store: { redis: 'redis://127.0.0.1:1', prefix: freshPrefix() }, perKey: { rpm: 10 } }, { clock: realClock, logger: log.logger })
      teardowns.push(gov.close)
      const before = await metricValue('sluice_governor_store_errors_total', { store: 'redis', operation: 'decide' })
      for (let i = 0; i < 20; i++) {
        const refused = await gov.limit({ key: 'k' })
        expect(refused?.status).toBe(503)
        expect(refused?.code).toBe('rate_limiter_unavailable')
        expect(refused?.retryAfter).toBe(1)
      }
      const warnings = log.lines.filter((l) => l.level === 'warn')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toMatch(/^governor: Redis store unreachable \(.*\); failing closed: requests get 503 until it is back$/)
      expect(await metricValue('sluice_governor_store_errors_total', { store: 'redis', operation: 'decide' })).toBe(before + 20)
    })

    it('fails open when configured: requests pass, without rate-limit headers', async () => {
      const log = capturedLogger()
      const gov = await startGovernor({ store: { redis: 'redis://127.0.0.1:1', prefix: freshPrefix() }, failMode: 'open', perKey: { rpm: 1, maxConcurrent: 1 } }, { clock: realClock, logger: log.logger })
      teardowns.push(gov.close)
      for (let i = 0; i < 5; i++) {
        const ctx = gov.request({ key: 'k' })
        expect(await gov.limit(ctx)).toBeUndefined()
        expect([...ctx.responseHeaders]).toEqual([])
        await gov.finish(ctx)
      }
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1)
      expect(log.lines[0]!.message).toContain('failing open')
    })

    it('starts while Redis is down and begins limiting once it comes up', async () => {
      const server = new RedisChild(await freePort())
      teardowns.push(() => server.stop())
      const log = capturedLogger()
      const gov = await startGovernor({ store: { redis: server.url, prefix: freshPrefix() }, perKey: { rpm: 2 } }, { clock: realClock, logger: log.logger })
      teardowns.push(gov.close)
      expect((await gov.limit({ key: 'k' }))?.status).toBe(503)
      await server.start()
      await eventually(async () => ((await gov.limit({ key: 'k' })) === undefined ? true : undefined), 'the first admission')
      expect(await gov.limit({ key: 'k' })).toBeUndefined()
      expect((await gov.limit({ key: 'k' }))?.status).toBe(429)
      expect(log.lines.map((l) => l.level)).toEqual(['warn', 'info'])
    })

    it('follows Redis down and back up without a restart; reloads its script after NOSCRIPT', async () => {
      const server = new RedisChild(await freePort())
      await server.start()
      teardowns.push(() => server.stop())
      const log = capturedLogger()
      const gov = await startGovernor({ store: { redis: server.url, prefix: freshPrefix() }, perKey: { rpm: 600 } }, { clock: realClock, logger: log.logger })
      teardowns.push(gov.close)

      expect(await gov.limit({ key: 'k' })).toBeUndefined()
      const admin = new Redis(server.url)
      await admin.script('FLUSH')
      await admin.quit()
      expect(await gov.limit({ key: 'k' })).toBeUndefined()

      await server.stop()
      const refused = await eventually(async () => {
        const r = await gov.limit({ key: 'k' })
        return r?.status === 503 ? r : undefined
      }, 'the governor to notice Redis is gone')
      expect(refused.code).toBe('rate_limiter_unavailable')

      await server.start()
      await eventually(async () => ((await gov.limit({ key: 'k' })) === undefined ? true : undefined), 'recovery')
      const ctx = gov.request({ key: 'k' })
      expect(await gov.limit(ctx)).toBeUndefined()
      expect(ctx.responseHeaders.get('x-ratelimit-limit-requests')).toBe('600')
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1)
      expect(log.lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['governor: Redis store reachable again; rate limiting resumed'])
    })
  })
})
