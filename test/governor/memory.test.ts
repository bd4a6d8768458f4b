import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../core/errors.ts'
import { gcraAdjust, gcraCheck, gcraParams } from '../../plugins/governor/gcra.ts'
import { governor } from '../../plugins/governor/index.ts'
import { MemoryStore } from '../../plugins/governor/memory-store.ts'
import { defineGcraSuite } from './gcra-suite.ts'
import { startGovernor, virtualClock } from './helpers.ts'

describe('governor on the memory store', () => {
  defineGcraSuite(() => 'memory')
})

describe('GCRA arithmetic', () => {
  it('never admits more than burst + window / interval in any window, and dense traffic gets exactly that', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }), // limit per minute
        fc.integer({ min: 1, max: 50 }), // burst
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }), // gaps between arrivals, ms
        (perMinute, burst, gaps) => {
          const p = gcraParams(perMinute, 60_000, burst)
          let tat: number | undefined
          let now = 0
          const admittedAt: number[] = []
          for (const gap of gaps) {
            now += gap
            const r = gcraCheck(tat, now, p, 1)
            if (r.allowed) {
              tat = r.tat
              admittedAt.push(now)
            } else {
              expect(r.retryAfterMs).toBeGreaterThan(0)
              expect(gcraCheck(tat, now + r.retryAfterMs, p, 1).allowed).toBe(true)
            }
          }
          for (let i = 0; i < admittedAt.length; i++) {
            for (let j = i; j < admittedAt.length; j++) {
              const window = admittedAt[j]! - admittedAt[i]!
              expect(j - i + 1).toBeLessThanOrEqual(burst + Math.floor(window / p.intervalMs + 1e-6))
            }
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  // Burst ≥ 2: with a burst of 1 the bucket is only ever admitting at or after its TAT, and an arrival after
  // the TAT restarts the schedule from that arrival (GCRA's rule), so millisecond-granular arrivals lose up
  // to 1 ms per request; with more burst the TAT stays ahead of now and no time is lost.
  it('admits exactly burst + floor(D / interval) under traffic denser than the rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 2, max: 50 }), fc.integer({ min: 0, max: 120_000 }), (perMinute, burst, duration) => {
        const p = gcraParams(perMinute, 60_000, burst)
        let tat: number | undefined
        let count = 0
        for (let now = 0; now <= duration; now += 1) {
          // Several arrivals per millisecond: keep asking until refused.
          for (let r = gcraCheck(tat, now, p, 1); r.allowed; r = gcraCheck(tat, now, p, 1)) {
            tat = r.tat
            count++
          }
        }
        expect(count).toBe(burst + Math.floor(duration / p.intervalMs + 1e-9))
      }),
      { numRuns: 40 },
    )
  })

  it('a refund never leaves the bucket fuller than full; a charge becomes debt', () => {
    const p = gcraParams(1000, 60_000, 1000)
    expect(gcraAdjust(undefined, 5000, p.intervalMs, -300)).toBeUndefined()
    expect(gcraAdjust(5000 + 100 * p.intervalMs, 5000, p.intervalMs, -300)).toBeUndefined()
    expect(gcraAdjust(5000 + 100 * p.intervalMs, 5000, p.intervalMs, -40)).toBeCloseTo(5000 + 60 * p.intervalMs)
    const debt = gcraAdjust(undefined, 5000, p.intervalMs, 1500)!
    expect(gcraCheck(debt, 5000, p, 1).allowed).toBe(false)
    expect(gcraCheck(debt, 5000, p, 1).retryAfterMs).toBeCloseTo(501 * p.intervalMs)
  })
})

describe('memory store bounds', () => {
  it('stays bounded with a million distinct keys: expired buckets are swept as traffic passes', () => {
    const clock = virtualClock()
    const store = new MemoryStore({ now: clock.now })
    const p = gcraParams(60, 60_000, 1) // each bucket is full again 1 s after its request
    let peak = 0
    for (let i = 0; i < 1_000_000; i++) {
      store.decide({ rates: [{ key: `pk:rpm:key-${i}`, params: p, cost: 1 }], concurrency: [], lease: 'l' })
      clock.advance(1)
      if (store.size > peak) peak = store.size
    }
    // About 1000 buckets are live at any moment (1 s of traffic at one per ms); the sweep keeps up.
    expect(peak).toBeLessThan(3000)
  })

  it('caps live buckets at maxKeys, evicting the least recently written', () => {
    const clock = virtualClock()
    const store = new MemoryStore({ now: clock.now, maxKeys: 1000 })
    const p = gcraParams(1, 60_000, 1) // a bucket stays full-of-debt for a minute: nothing expires here
    const decide = (key: string) => store.decide({ rates: [{ key, params: p, cost: 1 }], concurrency: [], lease: 'l' }).allowed
    for (let i = 0; i < 5000; i++) expect(decide(`key-${i}`)).toBe(true)
    expect(store.size).toBe(1000)
    // The 1000 most recent are still remembered (and limited); the oldest were evicted to keep the bound.
    for (let i = 4000; i < 5000; i++) expect(decide(`key-${i}`)).toBe(false)
    expect(decide('key-0')).toBe(true)
    expect(store.size).toBe(1000)
  })

  it('drops in-flight counters that reach zero', async () => {
    const clock = virtualClock()
    const store = new MemoryStore({ now: clock.now })
    for (let i = 0; i < 100; i++) {
      const conc = [{ key: `c:${i}`, max: 1 }]
      expect(store.decide({ rates: [], concurrency: conc, lease: 'l' }).allowed).toBe(true)
      store.settle({ adjust: [], release: [`c:${i}`], lease: 'l' })
    }
    expect((store as any).inflightCounts.size).toBe(0)
  })
})

describe('governor options', () => {
  it('refuses bad options with one line naming the key', () => {
    const message = (input: unknown) => {
      try {
        governor(input as any)
        return 'accepted'
      } catch (error) {
        expect(ConfigError.is(error)).toBe(true)
        return (error as Error).message
      }
    }
    expect(message({ rpm: 5 })).toBe('governor: unknown option "rpm"')
    expect(message({ rules: [{ scope: 'key', rpn: 5 }] })).toBe('governor: unknown option "rules.0.rpn"')
    expect(message({ rules: [{ scope: 'tenant', rpm: 5 }] })).toMatch(/^governor: option "rules.0.scope"/)
    expect(message({ rules: [{ scope: 'key' }] })).toBe('governor: option "rules.0": a rule needs at least one of rps, rpm, tpm or maxConcurrent')
    expect(message({ perKey: { rpm: -1 } })).toMatch(/^governor: option "perKey.rpm"/)
    expect(message({ store: 'redis' })).toBe('governor: option "store": expected "memory" or { redis: "redis://..." }')
    expect(message({ failMode: 'sometimes' })).toMatch(/^governor: option "failMode"/)
    expect(message({})).toBe('accepted')
  })

  it('never shows a Redis password in its described options', () => {
    const plugin = governor({ store: { redis: 'redis://user:hunter2@10.0.0.1:6379/0' } })
    expect(JSON.stringify(plugin.options)).not.toContain('hunter2')
  })

  it('does nothing (no settle function, no headers) when no limit applies', async () => {
    const gov = await startGovernor({ rules: [] })
    try {
      const ctx = gov.request({ key: 'k' })
      expect(await gov.limit(ctx)).toBeUndefined()
      expect(ctx.settles).toEqual([])
      expect([...ctx.responseHeaders]).toEqual([])
    } finally {
      await gov.close()
    }
  })
})
