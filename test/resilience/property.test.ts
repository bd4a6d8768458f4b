/**
 * Whatever fails, in whatever order, every request ends in exactly one outcome and one record, nothing hangs,
 * attempts are counted honestly, and no in-flight slot or probe slot leaks (afterwards, healthy targets serve).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { GatewayError } from '../../core/errors.ts'
import type { RequestRecord, SluicePlugin } from '../../core/types.ts'
import { router } from '../../plugins/router/index.ts'
import { retry } from '../../plugins/retry/index.ts'
import { breaker } from '../../plugins/breaker/index.ts'
import { createTestGateway, FakeClock, fakeProvider, type Result, type Step } from './harness.ts'

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
  gapMs: fc.integer({ min: 0, max: 20_000 }),
  seed: fc.integer(),
})

/** True once `promise` settled, false if it is still pending after the event loop went idle a while. */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  promise.then(() => (done = true), () => (done = true))
  for (let i = 0; i < 20 && !done; i++) await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('resilience chain: properties', () => {
  it('every request ends in exactly one outcome and one record, and nothing leaks', async () => {
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
      const records: RequestRecord[] = []
      const recorder: SluicePlugin = { name: 'recorder', hooks: { record: (record) => { records.push(record) } } }
      const targets = providers.map((p) => `${p.name}/m`)
      const plugins: SluicePlugin[] = [recorder, router({ models: { m: { targets, strategy: 'least-inflight' } }, latency: { explore: 0 } })]
      if (s.useRetry) plugins.push(retry({ attempts: s.attempts, baseMs: 50, maxMs: 400, maxRetryAfterMs: 5_000, budget: { maxRetriesPerRequest: s.budget } }))
      if (s.useBreaker) plugins.push(breaker({ minRequests: s.minRequests, failureRatio: 0.5, cooldownMs: 1_000, maxCooldownMs: 10_000, halfOpenProbes: s.halfOpenProbes }))
      const gateway = await createTestGateway(plugins, providers, clock)
      const totalCalls = () => providers.reduce((sum, p) => sum + p.calls.length, 0)

      for (let i = 0; i < s.requests; i++) {
        controller = new AbortController()
        const callsBefore = totalCalls()
        const sleepsBefore = clock.sleeps.length
        const pending = gateway.request('m', { signal: controller.signal })
        expect(await settles(pending)).toBe(true)
        const result: Result = await pending
        const calls = totalCalls() - callsBefore

        expect(records).toHaveLength(i + 1)
        expect(result.ctx.attempts).toBe(calls)
        expect(records[i]!.attempts).toBe(calls)
        const maxPerTarget = s.useRetry ? s.attempts : 1
        expect(calls).toBeLessThanOrEqual(targets.length * maxPerTarget)
        if (s.useRetry) expect(clock.sleeps.length - sleepsBefore).toBeLessThanOrEqual(s.budget)
        else expect(clock.sleeps.length).toBe(sleepsBefore)

        if (result.ok) {
          expect(controller.signal.aborted).toBe(false)
          const served = (result.response.body as any)?.provider
          if (result.response.status === 200) expect(`${served}/m`).toBe(`${result.ctx.target!.provider}/${result.ctx.target!.model}`)
          else expect(result.response.status).toBe(500) // a resolved error response, handed on once nothing else was left
        } else if (controller.signal.aborted) {
          expect((result.error as Error).name).toBe('AbortError')
        } else {
          expect(GatewayError.is(result.error)).toBe(true)
          const error = result.error as GatewayError
          expect(error.status).toBeGreaterThanOrEqual(400)
          if (error.code === 'circuit_open') expect(error.retryAfter).toBeGreaterThanOrEqual(1)
          if (!s.useBreaker) expect(error.code).not.toBe('circuit_open')
        }
        clock.advance(s.gapMs)
      }

      // Liveness: once the upstreams recover and the cooldowns pass, the plan is back in config order (no
      // in-flight slot leaked) and the first target serves (no probe slot leaked, every circuit can close).
      healthy = true
      clock.advance(60_000)
      controller = new AbortController()
      const after = await gateway.request('m', { signal: controller.signal })
      expect(after.ctx.plan.map((t) => `${t.provider}/${t.model}`)).toEqual(targets)
      expect(after.ok && (after.response.body as any).provider).toBe('p0')
      if (s.useBreaker) {
        for (const target of targets) await gateway.request(target)
        expect(gateway.gw.inject('breakers')!.states().every((c) => c.state === 'closed')).toBe(true)
      }
    }), { numRuns: 300 })
  })
})
