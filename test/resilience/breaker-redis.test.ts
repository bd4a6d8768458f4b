import { afterAll, describe, expect, it, vi } from 'vitest'
import { Redis } from 'ioredis'
import { CircuitRegistry } from '../../plugins/breaker/registry.ts'
import { startRedisSync, type RedisSync } from '../../plugins/breaker/redis-sync.ts'
import { breaker } from '../../plugins/breaker/index.ts'
import type { CircuitSettings } from '../../plugins/breaker/circuit.ts'
import { FakeClock, fakeProvider, resilienceGateway } from './fakes.ts'

const url = process.env.REDIS_URL
if (!url) console.warn('breaker-redis tests skipped: set REDIS_URL (e.g. redis://127.0.0.1:6379) to run them')

const settings: CircuitSettings = { failureRatio: 0.5, minRequests: 2, windowMs: 10_000, buckets: 10, cooldownMs: 30_000, maxCooldownMs: 60_000, halfOpenProbes: 1 }
const target = { provider: 'p', model: 'm' }

describe.skipIf(!url)('breaker: state shared through Redis', () => {
  const prefix = `sluice:test:breaker:${crypto.randomUUID()}`
  const syncs: RedisSync[] = []

  function replica() {
    const clock = new FakeClock()
    const registry = new CircuitRegistry(settings, 100, () => clock)
    const sync = startRedisSync(url!, prefix, registry, { warn: (message: string) => { throw new Error(`unexpected warning: ${message}`) } })
    syncs.push(sync)
    return { clock, registry, sync }
  }

  function trip(registry: CircuitRegistry, now: number) {
    const circuit = registry.get('p/m')
    for (let i = 0; i < settings.minRequests; i++) {
      const permit = circuit.acquire(now)
      if ('retryAfterMs' in permit) throw new Error('refused')
      circuit.failure(permit, now)
    }
  }

  afterAll(async () => {
    await Promise.all(syncs.map((s) => s.close()))
    const redis = new Redis(url!)
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    await redis.quit()
  })

  it('an open circuit on one replica opens it on the others; a successful probe closes it everywhere', async () => {
    const one = replica()
    const two = replica()
    await Promise.all([one.sync.ready, two.sync.ready])
    expect(two.registry.blockedFor(target)).toBe(0)

    trip(one.registry, one.clock.now())
    expect(one.registry.blockedFor(target)).toBe(30_000)
    await vi.waitFor(() => expect(two.registry.blockedFor(target)).toBeGreaterThan(0))
    expect(two.registry.blockedFor(target)).toBeLessThanOrEqual(30_000)

    // A replica that starts now learns the open circuit from the stored key.
    const late = replica()
    await late.sync.ready
    expect(late.registry.blockedFor(target)).toBeGreaterThan(0)

    one.clock.advance(30_000)
    const probe = one.registry.get('p/m').acquire(one.clock.now())
    if ('retryAfterMs' in probe) throw new Error('probe refused')
    one.registry.get('p/m').success(probe, one.clock.now())
    await vi.waitFor(() => {
      expect(two.registry.blockedFor(target)).toBe(0)
      expect(late.registry.blockedFor(target)).toBe(0)
    })
    expect(two.registry.states()).toEqual([{ target: 'p/m', state: 'closed', failures: 0, requests: 0 }])
  })

  it('the plugin connects when the gateway starts, shares what it opens, and disconnects in its teardown', async () => {
    const pluginPrefix = `${prefix}:plugin`
    const channel = `${pluginPrefix}:transitions`
    const redis = new Redis(url!)
    const subscribers = async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]
    const other = new CircuitRegistry(settings, 100, () => new FakeClock())
    const otherSync = startRedisSync(url!, pluginPrefix, other, { warn: () => {} })
    syncs.push(otherSync)
    await otherSync.ready
    expect(await subscribers()).toBe(1) // the other replica only

    const gateway = await resilienceGateway([fakeProvider('q', [500]), breaker({ redis: url, redisPrefix: pluginPrefix, minRequests: 1 })])
    await vi.waitFor(async () => expect(await subscribers()).toBe(2))
    await gateway.request('q/m')
    expect(gateway.breakers().states()[0]!.state).toBe('open')
    await vi.waitFor(() => expect(other.blockedFor({ provider: 'q', model: 'm' })).toBeGreaterThan(0))

    await gateway.close()
    await vi.waitFor(async () => expect(await subscribers()).toBe(1))
    await redis.quit()
  })
})
