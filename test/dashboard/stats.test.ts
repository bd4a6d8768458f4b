/** The dashboard's in-memory buckets and latency histogram. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { addValue, newHistogram, quantile } from '../../plugins/dashboard/histogram.ts'
import { LiveStats } from '../../plugins/dashboard/stats.ts'
import type { RequestRecord } from '../../core/types.ts'

const T0 = Date.UTC(2025, 10, 1, 12, 0, 0)

function record(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: `req_${Math.random()}`, startedAt: T0, endedAt: T0 + 100, api: 'openai-chat', stream: false, requestedModel: 'echo/a',
    provider: 'echo', upstreamModel: 'a', status: 200, outcome: 'ok', latencyMs: 100, ttfbMs: 20, attempts: 1, costUSD: 0.5,
    usage: { inputTokens: 3, outputTokens: 4, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }, ...over,
  }
}

describe('latency histogram', () => {
  it('reads a percentile within 20% above the true value, never below it', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 600_000 }), { minLength: 1, maxLength: 300 }), fc.constantFrom(0.5, 0.95, 0.99), (values, q) => {
      const histogram = newHistogram()
      for (const v of values) addValue(histogram, v)
      const sorted = [...values].sort((a, b) => a - b)
      const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
      const read = quantile(histogram, q)!
      expect(read).toBeGreaterThanOrEqual(exact * 0.999 - 0.5)
      expect(read).toBeLessThanOrEqual(exact * 1.2 + 1)
    }))
  })

  it('is empty without values', () => {
    expect(quantile(newHistogram(), 0.5)).toBeUndefined()
  })
})

describe('live stats', () => {
  it('buckets records by minute and hour, and totals the window', () => {
    const stats = new LiveStats(T0)
    stats.observe(record())
    stats.observe(record({ startedAt: T0 + 61_000, status: 502, outcome: 'upstream_error', latencyMs: 2000 }))
    stats.observe(record({ startedAt: T0 - 2 * 3_600_000 })) // outside the last hour, inside the day
    const hour = stats.overview('hour', T0 + 90_000)
    expect(hour.buckets).toHaveLength(60)
    expect(hour.buckets.at(-1)).toMatchObject({ start: T0 + 60_000, requests: 1, errors: 1 })
    expect(hour.buckets.at(-2)).toMatchObject({ start: T0, requests: 1, errors: 0, inputTokens: 3, outputTokens: 4, costUSD: 0.5 })
    expect(hour.totals).toMatchObject({ requests: 2, errors: 1, inputTokens: 6, costUSD: 1 })
    expect(hour.totals.latency.p95).toBeGreaterThanOrEqual(2000)
    const day = stats.overview('day', T0 + 90_000)
    expect(day.buckets).toHaveLength(24)
    expect(day.totals.requests).toBe(3)
  })

  it('forgets minutes older than an hour and keeps at most maxTargets targets', () => {
    const stats = new LiveStats(T0, 2)
    stats.observe(record({ upstreamModel: 'a' }))
    stats.observe(record({ upstreamModel: 'b' }))
    stats.observe(record({ upstreamModel: 'c', startedAt: T0 + 2 * 3_600_000 }))
    expect(stats.overview('hour', T0 + 2 * 3_600_000).totals.requests).toBe(1)
    expect([...stats.targets(T0 + 2 * 3_600_000).keys()]).toEqual(['echo/b', 'echo/c'])
  })

  it('reports recent requests, errors and latency per target', () => {
    const stats = new LiveStats(T0)
    for (let i = 0; i < 4; i++) stats.observe(record({ status: i === 0 ? 500 : 200 }))
    const summary = stats.targets(T0 + 1000).get('echo/a')!
    expect(summary).toMatchObject({ requests: 4, errors: 1 })
    expect(summary.latency.p50).toBeGreaterThanOrEqual(100)
    expect(stats.targets(T0 + 10 * 60_000).get('echo/a')!.requests).toBe(0) // older than five minutes
  })
})
