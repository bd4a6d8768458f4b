/**
 * Whatever fails, in whatever order, every request through the real core ends in exactly one response and one
 * record, nothing hangs, attempts are counted honestly (x-sluice-attempts = the record's attempts = upstream
 * calls), and no in-flight slot or probe slot leaks (afterwards, healthy targets serve).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { SluicePlugin } from '../../core/types.ts'
import { router } from '../../plugins/router/index.ts'
import { retry } from '../../plugins/retry/index.ts'
import { breaker } from '../../plugins/breaker/index.ts'
import { FakeClock, fakeProvider, resilienceGateway, type Outcome, type Step } from './fakes.ts'

type ScriptStep = Step | 'abort'
const step = fc.constantFrom<ScriptStep>('ok', 400, 429, 500, 503, { status: 429, retryAfter: 1 }, { status: 503, retryAfter: 120 }, 'timeout', 'connection', 'resolved-500', 'abort')

const scenario = fc.record({
  targets: fc.array(fc.array(step, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
  attempts: fc.integer({ min: 1, max: 4 }),
  budget: fc.integer({ min: 0, max: 5 }),
  minRequests: fc.integer({ min: 1, max: 4 }),
  halfOpenProbes: fc.integer({ min: 1, max: 2 }),
  useRetry: fc.boolean(),
  useBreaker: fc.boolean(),
  requests: fc.integer({ min: 1, max: 8 }),
  stream: fc.boolean(),
  gapMs: fc.integer({ min: 0, max: 20_000 }),
  seed: fc.integer(),
})

/** True once `promise` settled, false if it is still pending after many turns of the event loop. */
async function settles(promise: Promise<unknown>, turns = 5_000): Promise<boolean> {
  let done = false
  promise.then(() => (done = true), () => (done = true))
  for (let i = 0; i < turns && !done; i++) await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('resilience chain: properties', () => {
  it('every request ends in exactly one response and one record, and nothing leaks', async () => {
    await fc.assert(fc.asyncProperty(scenario, async (s) => {
      const clock = new FakeClock(s.seed)
      let healthy = false
      let controller = new AbortController()
      const providers = s.targets.map((script, i) => fakeProvider(`p${i}`, (n) => {
        const next = healthy ? 'ok' : script[n - 1] ?? 'ok'
        if (next !== 'abort') return next
        controller.abort(new DOMException('client went away', 'AbortError'))
        return 'hang'
      }))
      const targets = providers.map((_, i) => `p${i}/m`)
      const plugins: SluicePlugin[] = [...providers, router({ models: { m: { targets, strategy: 'least-inflight' } }, latency: { explore: 0 } })]
      if (s.useRetry) plugins.push(retry({ attempts: s.attempts, baseMs: 50, maxMs: 400, maxRetryAfterMs: 5_000, budget: { maxRetriesPerRequest: s.budget } }))
      if (s.useBreaker) plugins.push(breaker({ minRequests: s.minRequests, failureRatio: 0.5, cooldownMs: 1_000, maxCooldownMs: 10_000, halfOpenProbes: s.halfOpenProbes }))
      const gateway = await resilienceGateway(plugins, clock)
      const records = gateway.gateway.records
      const totalCalls = () => providers.reduce((sum, p) => sum + p.calls.length, 0)

      for (let i = 0; i < s.requests; i++) {
        controller = new AbortController()
        const callsBefore = totalCalls()
        const sleepsBefore = clock.sleeps.length
        const pending = gateway.request('m', { signal: controller.signal, stream: s.stream })
        expect(await settles(pending)).toBe(true)
        const result: Outcome = await pending
        const calls = totalCalls() - callsBefore

        expect(records).toHaveLength(i + 1)
        expect(records[i]).toBe(result.record)
        expect(result.attempts).toBe(calls)
        expect(result.record.attempts).toBe(calls)
        const maxPerTarget = s.useRetry ? s.attempts : 1
        expect(calls).toBeLessThanOrEqual(targets.length * maxPerTarget)
        if (s.useRetry) expect(clock.sleeps.length - sleepsBefore).toBeLessThanOrEqual(s.budget)
        else expect(clock.sleeps.length).toBe(sleepsBefore)

        if (controller.signal.aborted) {
          expect(result.record).toMatchObject({ status: 499, outcome: 'client_abort' })
        } else if (result.status === 200) {
          expect(result.record).toMatchObject({ status: 200, outcome: 'ok' })
          expect(result.servedBy).toBe(`${result.record.provider}/${result.record.upstreamModel}`)
          expect(result.text).toContain(result.servedBy) // the answer came from the target the headers name
        } else {
          expect(result.status).toBeGreaterThanOrEqual(400)
          expect(result.record.status).toBe(result.status)
          if (result.error?.code === 'circuit_open') expect(Number(result.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
          if (!s.useBreaker) expect(result.error?.code).not.toBe('circuit_open')
        }
        clock.advance(s.gapMs)
      }

      // Liveness: once the upstreams recover and the cooldowns pass, the plan is back in config order (no
      // in-flight slot leaked) and the first target serves (no probe slot leaked, every circuit can close).
      healthy = true
      clock.advance(60_000)
      const after = await gateway.request('m', { stream: s.stream })
      expect(after.ctx.plan.map((t) => `${t.provider}/${t.model}`)).toEqual(targets)
      expect(after.servedBy).toBe('p0/m')
      if (s.useBreaker) {
        for (const target of targets) await gateway.request(target)
        expect(gateway.breakers().states().every((c) => c.state === 'closed')).toBe(true)
      }
      await gateway.close()
    }), { numRuns: 300 })
  })
})
