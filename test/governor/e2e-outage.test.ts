/**
 * Redis dies under running gateway processes: the one configured to fail closed answers 503
 * `rate_limiter_unavailable` in the OpenAI shape, the one configured to fail open serves unlimited; when Redis
 * is back both limit again, without a restart. Redis here is a private redis-server child on a free port.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/gateway.ts'
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts'
import { chatOnce, clientFor, hammer } from './hammer.ts'
import { freePort, RedisChild } from './redis-server.ts'

const haveRedis = !!process.env.REDIS_URL
if (!haveRedis) console.warn('[governor] REDIS_URL is not set: skipping the Redis outage end-to-end test')

describe.skipIf(!haveRedis)('governor with Redis killed under running gateway processes', () => {
  const keyOf = (name: string) => `sk-test-governor-${name}-${randomBytes(12).toString('hex')}`
  const keys = { hundred: keyOf('hundred'), thirty: keyOf('thirty'), fifty: keyOf('fifty'), warm: keyOf('warm') }
  let redis: RedisChild
  let closed: GatewayProcess
  let open: GatewayProcess

  beforeAll(async () => {
    redis = new RedisChild(await freePort())
    await redis.start()
    const prefix = `sluice-test:gov-outage:${randomUUID()}:`
    const env = (failMode: string) => ({
      SLUICE_GOV_REDIS_URL: redis.url,
      SLUICE_GOV_PREFIX: prefix,
      SLUICE_GOV_FAIL_MODE: failMode,
      SLUICE_GOV_LOG_LEVEL: 'info',
      SLUICE_GOV_KEY_HUNDRED: keys.hundred,
      SLUICE_GOV_KEY_THIRTY: keys.thirty,
      SLUICE_GOV_KEY_FIFTY: keys.fifty,
      SLUICE_GOV_KEY_WARM: keys.warm,
    })
    ;[closed, open] = await Promise.all([
      startGatewayProcess('test/configs/governor-replicas.config.ts', env('closed')),
      startGatewayProcess('test/configs/governor-replicas.config.ts', env('open')),
    ])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([closed?.stop(), open?.stop()])
    await redis?.stop()
  })

  it('fails closed with a 503 in the OpenAI shape (or open, as configured), then limits again once Redis is back', async () => {
    const toClosed = clientFor(closed.url, keys.warm)
    const toOpen = clientFor(open.url, keys.warm)
    expect((await chatOnce(toClosed)).status).toBe(200)
    expect((await chatOnce(toOpen)).status).toBe(200)

    await redis.stop() // SIGKILL

    await eventually(async () => expect((await chatOnce(toClosed)).status).toBe(503), 10_000)
    const refused = await chatOnce(toClosed)
    expect(refused.status).toBe(503)
    expect(refused.error).toEqual({ message: 'rate limiter unavailable; retry shortly', type: 'api_error', param: null, code: 'rate_limiter_unavailable' })
    expect(refused.headers.get('retry-after')).toBe('1')
    // Fail open: the same outage, served without limits (a limited key too).
    expect((await chatOnce(toOpen)).status).toBe(200)
    const openThirty = clientFor(open.url, keys.thirty)
    const unlimited = await hammer([openThirty], { workers: 4, total: 40, windowMs: 20_000 })
    expect(unlimited.outcomes.filter((o) => o.status === 200)).toHaveLength(40)
    expect(closed.output()).toMatch(/governor: Redis store unreachable \(.*\); failing closed: requests get 503/)
    expect(open.output()).toMatch(/governor: Redis store unreachable \(.*\); failing open: requests pass unlimited/)

    await redis.start() // same port, empty

    await eventually(async () => expect((await chatOnce(toClosed)).status).toBe(200), 15_000)
    await eventually(async () => expect(closed.output()).toContain('governor: Redis store reachable again; rate limiting resumed'), 5_000)
    // Limiting is back on both: the rpm-30 key gets its 30 (Redis restarted empty), whichever process serves it.
    const thirty = [clientFor(closed.url, keys.thirty), openThirty]
    await eventually(async () => expect((await chatOnce(toOpen)).headers.get('x-ratelimit-limit-requests')).toBe('1000000000'), 15_000)
    const { outcomes, spanMs } = await hammer(thirty, { workers: 4, total: 60, windowMs: 20_000 })
    const admitted = outcomes.filter((o) => o.status === 200).length
    expect(admitted).toBeGreaterThanOrEqual(30)
    expect(admitted).toBeLessThanOrEqual(30 + Math.floor(spanMs / 2000))
    expect(outcomes.filter((o) => o.status !== 200).every((o) => o.status === 429)).toBe(true)
  })
})
