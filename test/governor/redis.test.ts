import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { registry } from '../../core/metrics.ts'
import { realClock } from '../../core/clock.ts'
import { governor } from '../../plugins/governor/index.ts'
import type { SluicePlugin } from '../../core/types.ts'
import { defineGcraSuite } from './gcra-suite.ts'
import { capturedLogger, context, limit, settle, setUp, virtualClock } from './helpers.ts'
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

    async function replicas(n: number, options: Parameters<typeof governor>[0]): Promise<SluicePlugin[]> {
      const plugins: SluicePlugin[] = []
      for (let i = 0; i < n; i++) {
        const plugin = governor(options)
        teardowns.push(await setUp(plugin, realClock))
        plugins.push(plugin)
      }
      return plugins
    }

    it('60 concurrent decisions across 3 replicas admit exactly the configured 10', async () => {
      const prefix = freshPrefix()
      // 10 per minute with the default burst: 10 pass at once, the 11th only 6 s later.
      const plugins = await replicas(3, { store: { redis: url!, prefix }, perKey: { rpm: 10 } })
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => limit(plugins[i % 3]!, context({ key: 'shared' }))))
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
      const old = governor(options)
      const closeOld = await setUp(old, realClock)
      const running = [context({ key: 'k' }), context({ key: 'k' })]
      for (const ctx of running) expect(await limit(old, ctx)).toBeUndefined()
      const [fresh] = await replicas(1, options)
      expect((await limit(fresh!, context({ key: 'k' })))?.status).toBe(429)
      await closeOld()
      for (const ctx of running) await settle(old, ctx) // a no-op now
      const next = [context({ key: 'k' }), context({ key: 'k' }), context({ key: 'k' })]
      const results = await Promise.all(next.map((ctx) => limit(fresh!, ctx)))
      expect(results.filter((r) => r === undefined)).toHaveLength(2)
    })

    it('80 concurrent decisions across 2 replicas hold at most maxConcurrent slots, and release them', async () => {
      const prefix = freshPrefix()
      const plugins = await replicas(2, { store: { redis: url!, prefix }, perKey: { maxConcurrent: 7 } })
      const contexts = Array.from({ length: 80 }, () => context({ key: 'shared' }))
      const results = await Promise.all(contexts.map((ctx, i) => limit(plugins[i % 2]!, ctx)))
      const admitted = contexts.filter((_, i) => results[i] === undefined)
      expect(admitted.length).toBe(7)
      await Promise.all(admitted.map((ctx) => settle(plugins[0]!, ctx, 200, 'ok')))
      const again = await Promise.all(Array.from({ length: 20 }, (_, i) => limit(plugins[i % 2]!, context({ key: 'shared' }))))
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
      const plugin = governor({ store: { redis: 'redis://127.0.0.1:1', prefix: freshPrefix() }, perKey: { rpm: 10 } })
      teardowns.push(await setUp(plugin, realClock, log.logger))
      const before = await metricValue('sluice_governor_store_errors_total', { store: 'redis', operation: 'decide' })
      for (let i = 0; i < 20; i++) {
        const refused = await limit(plugin, context({ key: 'k' }))
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
      const plugin = governor({ store: { redis: 'redis://127.0.0.1:1', prefix: freshPrefix() }, failMode: 'open', perKey: { rpm: 1, maxConcurrent: 1 } })
      teardowns.push(await setUp(plugin, realClock, log.logger))
      for (let i = 0; i < 5; i++) {
        const ctx = context({ key: 'k' })
        expect(await limit(plugin, ctx)).toBeUndefined()
        expect([...ctx.responseHeaders]).toEqual([])
        await settle(plugin, ctx)
      }
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1)
      expect(log.lines[0]!.message).toContain('failing open')
    })

    it('starts while Redis is down and begins limiting once it comes up', async () => {
      const server = new RedisChild(await freePort())
      teardowns.push(() => server.stop())
      const log = capturedLogger()
      const plugin = governor({ store: { redis: server.url, prefix: freshPrefix() }, perKey: { rpm: 2 } })
      teardowns.push(await setUp(plugin, realClock, log.logger))
      expect((await limit(plugin, context({ key: 'k' })))?.status).toBe(503)
      await server.start()
      await eventually(async () => ((await limit(plugin, context({ key: 'k' }))) === undefined ? true : undefined), 'the first admission')
      expect(await limit(plugin, context({ key: 'k' }))).toBeUndefined()
      expect((await limit(plugin, context({ key: 'k' })))?.status).toBe(429)
      expect(log.lines.map((l) => l.level)).toEqual(['warn', 'info'])
    })

    it('follows Redis down and back up without a restart; reloads its script after NOSCRIPT', async () => {
      const server = new RedisChild(await freePort())
      await server.start()
      teardowns.push(() => server.stop())
      const log = capturedLogger()
      const plugin = governor({ store: { redis: server.url, prefix: freshPrefix() }, perKey: { rpm: 600 } })
      teardowns.push(await setUp(plugin, realClock, log.logger))

      expect(await limit(plugin, context({ key: 'k' }))).toBeUndefined()
      const admin = new Redis(server.url)
      await admin.script('FLUSH')
      await admin.quit()
      expect(await limit(plugin, context({ key: 'k' }))).toBeUndefined()

      await server.stop()
      const refused = await eventually(async () => {
        const r = await limit(plugin, context({ key: 'k' }))
        return r?.status === 503 ? r : undefined
      }, 'the governor to notice Redis is gone')
      expect(refused.code).toBe('rate_limiter_unavailable')

      await server.start()
      await eventually(async () => ((await limit(plugin, context({ key: 'k' }))) === undefined ? true : undefined), 'recovery')
      const ctx = context({ key: 'k' })
      expect(await limit(plugin, ctx)).toBeUndefined()
      expect(ctx.responseHeaders.get('x-ratelimit-limit-requests')).toBe('600')
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1)
      expect(log.lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['governor: Redis store reachable again; rate limiting resumed'])
    })
  })
})
