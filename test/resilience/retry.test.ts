import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../core/errors.ts'
import type { SluicePlugin } from '../../core/types.ts'
import { retry } from '../../plugins/retry/index.ts'
import { circuitOpenError } from '../../plugins/breaker/index.ts'
import { backoffMs, retryDelayMs } from '../../plugins/retry/backoff.ts'
import { FakeClock, fakeProvider, resilienceGateway, turnsUntil } from './fakes.ts'

describe('retry', () => {
  it('retries a failing target until it answers', async () => {
    const clock = new FakeClock()
    const p = fakeProvider('p', [500, 503, 'ok'])
    const gateway = await resilienceGateway([p, retry({ attempts: 3 })], clock)
    const result = await gateway.request('p/m')
    expect(result.servedBy).toBe('p/m')
    expect(result.attempts).toBe(3)
    expect(result.record).toMatchObject({ status: 200, attempts: 3 })
    expect(p.calls).toHaveLength(3)
    expect(clock.sleeps).toHaveLength(2)
  })

  it('retries timeouts, connection errors and resolved 5xx responses', async () => {
    const p = fakeProvider('p', ['timeout', 'connection', 'resolved-500', 'ok'])
    const gateway = await resilienceGateway([p, retry({ attempts: 4 })])
    const result = await gateway.request('p/m')
    expect(result.servedBy).toBe('p/m')
    expect(result.attempts).toBe(4)
  })

  it('gives up after `attempts` tries and surfaces the last error', async () => {
    const p = fakeProvider('p', [500, 500, 502])
    const gateway = await resilienceGateway([p, retry({ attempts: 3 })])
    const result = await gateway.request('p/m')
    expect(result.status).toBe(502)
    expect(result.record).toMatchObject({ status: 502, attempts: 3 })
    expect(p.calls).toHaveLength(3)
  })

  it('hands on a resolved error response once retries are spent', async () => {
    const p = fakeProvider('p', ['resolved-500'])
    const gateway = await resilienceGateway([p, retry({ attempts: 2 })])
    const result = await gateway.request('p/m')
    expect(result.status).toBe(500)
    expect(result.error?.message).toBe('boom')
    expect(p.calls).toHaveLength(2)
  })

  it.each([400, 404] as const)('never retries a %i', async (status) => {
    const p = fakeProvider('p', [status, 'ok'])
    const gateway = await resilienceGateway([p, retry()])
    const result = await gateway.request('p/m')
    expect(result.status).toBe(status)
    expect(p.calls).toHaveLength(1)
  })

  it('never retries a circuit_open refusal', async () => {
    const p = fakeProvider('p', ['ok'])
    // sits where the breaker does (inside retry) and refuses every attempt, as an open circuit would
    const refuse: SluicePlugin = { name: 'refuse', order: -10, hooks: { call: async () => { throw circuitOpenError('p/m', 5_000) } } }
    const gateway = await resilienceGateway([p, retry(), refuse])
    const result = await gateway.request('p/m')
    expect(result.status).toBe(503)
    expect(result.error?.code).toBe('circuit_open')
    expect(gateway.clock.sleeps).toEqual([])
    expect(p.calls).toHaveLength(0)
  })

  it("retries an upstream's own 503 circuit_open (another gateway upstream) like any 503", async () => {
    const p = fakeProvider('p', [{ status: 503, code: 'circuit_open', retryAfter: 1 }, 'ok'])
    const gateway = await resilienceGateway([p, retry()])
    const result = await gateway.request('p/m')
    expect(result.servedBy).toBe('p/m')
    expect(result.attempts).toBe(2)
    expect(gateway.clock.sleeps).toEqual([1000])
  })

  it('numbers attempts across retries', async () => {
    const seen: number[] = []
    const spy: SluicePlugin = { name: 'spy', order: 0, hooks: { call: (ctx, attempt, next) => { seen.push(attempt.number); return next(attempt) } } }
    const gateway = await resilienceGateway([fakeProvider('p', [500, 500, 'ok']), retry({ attempts: 3 }), spy])
    await gateway.request('p/m')
    expect(seen).toEqual([1, 2, 3])
  })

  it('keeps backoff within the full-jitter bounds, capped at maxMs', async () => {
    const clock = new FakeClock(7)
    const gateway = await resilienceGateway([fakeProvider('p', [500]), retry({ attempts: 8, baseMs: 100, maxMs: 1000, budget: { maxRetriesPerRequest: 10 } })], clock)
    await gateway.request('p/m')
    expect(clock.sleeps).toHaveLength(7)
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0)
      expect(ms).toBeLessThan(Math.min(1000, 100 * 2 ** i))
    })
  })

  it('computes backoff from the injected randomness', () => {
    expect(backoffMs(1, 100, 1000, () => 0.5)).toBe(50)
    expect(backoffMs(3, 100, 1000, () => 0.5)).toBe(200)
    expect(backoffMs(10, 100, 1000, () => 0.999)).toBeCloseTo(999)
    expect(backoffMs(1, 100, 1000, () => 0)).toBe(0)
  })

  it("honours the upstream's retry-after (and retry-after-ms precision)", async () => {
    const clock = new FakeClock()
    const p = fakeProvider('p', [{ status: 429, retryAfter: 2 }, { status: 503, retryAfter: 0.25 }, 'ok'])
    const gateway = await resilienceGateway([p, retry({ attempts: 3, maxRetryAfterMs: 5000 })], clock)
    const result = await gateway.request('p/m')
    expect(result.servedBy).toBe('p/m')
    expect(clock.sleeps).toEqual([2000, 250])
  })

  it('stops retrying a target whose retry-after exceeds the cap', async () => {
    const clock = new FakeClock()
    const p = fakeProvider('p', [{ status: 429, retryAfter: 60 }, 'ok'])
    const gateway = await resilienceGateway([p, retry({ attempts: 3, maxRetryAfterMs: 10_000 })], clock)
    const result = await gateway.request('p/m')
    expect(result.status).toBe(429)
    expect(result.headers.get('retry-after')).toBe('60')
    expect(clock.sleeps).toEqual([])
    expect(p.calls).toHaveLength(1)
    expect(retryDelayMs(1, 10_001, { baseMs: 1, maxMs: 1, maxRetryAfterMs: 10_000 }, () => 0)).toBeUndefined()
  })

  it('spends at most the per-request retry budget', async () => {
    const p = fakeProvider('p', [500])
    const gateway = await resilienceGateway([p, retry({ attempts: 10, budget: { maxRetriesPerRequest: 2 } })])
    const result = await gateway.request('p/m')
    expect(result.status).toBe(500)
    expect(p.calls).toHaveLength(3)
    expect(result.ctx.state.retry.retries).toBe(2)
  })

  it('stops at once when the client disconnects during the backoff', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    clock.onSleep = () => controller.abort(new DOMException('client went away', 'AbortError'))
    const p = fakeProvider('p', [500, 'ok'])
    const gateway = await resilienceGateway([p, retry({ attempts: 5 })], clock)
    const result = await gateway.request('p/m', { signal: controller.signal })
    expect(result.record).toMatchObject({ status: 499, outcome: 'client_abort', attempts: 1 })
    expect(p.calls).toHaveLength(1)
  })

  it('does not retry an attempt cut short by a client abort', async () => {
    const controller = new AbortController()
    const p = fakeProvider('p', ['hang', 'ok'])
    const gateway = await resilienceGateway([p, retry({ attempts: 5 })])
    const pending = gateway.request('p/m', { signal: controller.signal })
    await turnsUntil(() => p.calls.length === 1)
    controller.abort(new DOMException('client went away', 'AbortError'))
    const result = await pending
    expect(result.record).toMatchObject({ status: 499, outcome: 'client_abort', attempts: 1 })
    expect(p.calls).toHaveLength(1)
    expect(gateway.clock.sleeps).toEqual([])
  })

  it('refuses bad options with one clear line', () => {
    expect(() => retry({ attempts: 0 })).toThrow(ConfigError)
    expect(() => retry({ atempts: 3 } as any)).toThrow('retry: unknown option "atempts"')
    expect(() => retry({ retryOn: ['6xx'] } as any)).toThrow(/retry: option "retryOn.0"/)
  })
})
