import { describe, expect, it, onTestFinished } from 'vitest'
import { GatewayError } from '../../core/errors.ts'
import type { SluicePlugin } from '../../core/types.ts'
import { pluginHarness } from '../../testing/index.ts'
import { router } from '../../plugins/router/index.ts'
import { retry } from '../../plugins/retry/index.ts'
import { breaker } from '../../plugins/breaker/index.ts'
import { FakeClock, fakeProvider, resilienceGateway, turnsUntil } from './fakes.ts'

/** The plugins on the core's plugin host (set up, ready, started), and the warnings they logged. */
async function harnessWithWarnings(plugins: SluicePlugin[]) {
  const harness = await pluginHarness(plugins)
  onTestFinished(() => harness.close())
  const warnings = () => harness.logs.filter((entry) => entry.type === 'warn').map((entry) => entry.args.join(' '))
  return { harness, warnings }
}

describe('router: aliases and plans', () => {
  it('resolves an alias to an ordered plan with per-target params and timeouts', async () => {
    const a = fakeProvider('a', ['ok'])
    const b = fakeProvider('b', ['ok'])
    const gateway = await resilienceGateway([a, b, router({ models: {
      fast: [{ model: 'a/small', params: { temperature: 0 }, timeouts: { firstByte: 2_000 } }, 'b/tiny-v2'],
    } })])
    const result = await gateway.request('fast')
    expect(result.ctx.plan.map((t) => `${t.provider}/${t.model}`)).toEqual(['a/small', 'b/tiny-v2'])
    expect(result.servedBy).toBe('a/small')
    expect(result.record).toMatchObject({ requestedModel: 'fast', provider: 'a', upstreamModel: 'small' })
    expect(a.calls[0]!.body).toMatchObject({ model: 'small', temperature: 0 })
    expect(a.calls[0]!.timeouts).toEqual({ firstByte: 2_000 })
  })

  it('lists the aliases it can serve in /v1/models', async () => {
    const gateway = await resilienceGateway([fakeProvider('a', ['ok']), fakeProvider('b', ['ok']), router({ models: { fast: 'a/x', smart: ['ghost/y', 'b/z'], dead: 'ghost/q' } })])
    const { data } = await (await gateway.gateway.fetch('/v1/models')).json()
    expect(data.map((model: { id: string }) => model.id)).toEqual(['fast', 'smart'])
  })

  it('leaves provider/model requests and a plan set by an earlier route hook alone', async () => {
    const pin: SluicePlugin = { name: 'pin', order: -50, hooks: { route: (ctx) => { if (ctx.model === 'pinned') ctx.plan = [{ provider: 'b', model: 'm' }] } } }
    const gateway = await resilienceGateway([fakeProvider('a', ['ok']), fakeProvider('b', ['ok']), pin, router({ models: { pinned: 'a/m' } })])
    expect((await gateway.request('pinned')).servedBy).toBe('b/m')
    expect((await gateway.request('a/direct')).servedBy).toBe('a/direct')
  })

  it('skips targets whose provider is not registered (warned once, for every alias), 404 when none is', async () => {
    const plugins = () => [fakeProvider('a', ['ok']), router({ models: { mixed: ['ghost/m', 'a/m'], dead: ['ghost/m'], ok: 'a/x' } })]
    const { harness, warnings } = await harnessWithWarnings(plugins())
    // reported once every setup ran, for every alias at once
    expect(warnings()).toEqual([
      'router: no provider "ghost" is registered; its targets are skipped in models "mixed", "dead"',
      'router: model "dead" has no registered provider at all: requests for it get 404',
    ])
    for (let i = 0; i < 2; i++) {
      const ctx = harness.context({ model: 'mixed' })
      expect(await harness.gate('route', ctx)).toBeUndefined()
      expect(ctx.plan).toEqual([{ provider: 'a', model: 'm' }])
    }
    expect(await harness.gate('route', harness.context({ model: 'dead' }))).toMatchObject({ status: 404, code: 'model_not_found' })
    expect(warnings()).toHaveLength(2) // and only once

    const gateway = await resilienceGateway(plugins())
    expect((await gateway.request('mixed')).servedBy).toBe('a/m')
    const dead = await gateway.request('dead')
    expect(dead.status).toBe(404)
    expect(dead.error?.code).toBe('model_not_found')
    expect(dead.record).toMatchObject({ status: 404, attempts: 0 })
  })

  it('checks at boot, once every setup ran: a provider registered in a later setup is not reported, a typo is', async () => {
    // order 0: its setup runs after the router's (-30), like every provider plugin's
    const late = fakeProvider('late', ['ok'])
    const { harness, warnings } = await harnessWithWarnings([router({ models: { m: ['late/x'], typo: ['lat/x'] } }), late])
    // before any request
    expect(warnings()).toEqual([
      'router: no provider "lat" is registered; its targets are skipped in model "typo"',
      'router: model "typo" has no registered provider at all: requests for it get 404',
    ])
    const ctx = harness.context({ model: 'm' })
    await harness.gate('route', ctx)
    expect(ctx.plan).toEqual([{ provider: 'late', model: 'x' }])
  })

  it('refuses bad config with one clear line', () => {
    expect(() => router({ models: { x: ['no-slash'] } })).toThrow(/router: option "models.x/)
    expect(() => router({ models: { x: { targets: ['a/b'], strategy: 'fastest' as any } } })).toThrow(/router: option "models.x/)
    expect(() => router({ models: { x: ['a/b', 'a/b'] } })).toThrow('router: option "models.x": target "a/b" is listed twice')
    expect(() => router({ models: {}, strats: 1 } as any)).toThrow('router: unknown option "strats"')
  })
})

describe('router: fallback', () => {
  it.each([500, 503, 429, 'timeout', 'connection', 'resolved-500'] as const)('falls back to the second target on %s', async (failure) => {
    const gateway = await resilienceGateway([fakeProvider('a', [failure]), fakeProvider('b', ['ok']), router({ models: { m: ['a/x', 'b/y'] } })])
    const result = await gateway.request('m')
    expect(result.servedBy).toBe('b/y')
    expect(result.attempts).toBe(2)
    expect(result.record).toMatchObject({ status: 200, provider: 'b', upstreamModel: 'y', attempts: 2 })
  })

  it.each([400, 404] as const)('never falls back on a %i', async (status) => {
    const b = fakeProvider('b', ['ok'])
    const gateway = await resilienceGateway([fakeProvider('a', [status]), b, router({ models: { m: ['a/x', 'b/y'] } })])
    expect((await gateway.request('m')).status).toBe(status)
    expect(b.calls).toHaveLength(0)
  })

  it('fallbackOn per alias overrides the default', async () => {
    const b = fakeProvider('b', ['ok'])
    const gateway = await resilienceGateway([fakeProvider('a', [429]), b, router({ models: { m: { targets: ['a/x', 'b/y'], fallbackOn: [404] } } })])
    expect((await gateway.request('m')).status).toBe(429)
    expect(b.calls).toHaveLength(0)
  })

  it('surfaces the last failure when every target fails', async () => {
    const gateway = await resilienceGateway([fakeProvider('a', [500]), fakeProvider('b', [{ status: 429, retryAfter: 3 }]), router({ models: { m: ['a/x', 'b/y'] } })])
    const result = await gateway.request('m')
    expect(result.status).toBe(429)
    expect(result.headers.get('retry-after')).toBe('3')
    expect(result.record).toMatchObject({ status: 429, provider: 'b', attempts: 2 })
  })

  it('stops falling back once the client has gone', async () => {
    const controller = new AbortController()
    const b = fakeProvider('b', ['ok'])
    const a = fakeProvider('a', () => { controller.abort(new DOMException('gone', 'AbortError')); return 500 })
    const gateway = await resilienceGateway([a, b, router({ models: { m: ['a/x', 'b/y'] } })])
    const result = await gateway.request('m', { signal: controller.signal })
    expect(result.status).not.toBe(200)
    expect(result.record.attempts).toBe(1)
    expect(b.calls).toHaveLength(0)
  })
})

describe('streams', () => {
  it('falls back before the first byte, and never retries once the stream has started', async () => {
    const a = fakeProvider('a', ['timeout']) // a first-byte timeout: still inside `call`
    const b = fakeProvider('b', ['stall']) // one chunk, then an idle timeout
    const gateway = await resilienceGateway([a, b, router({ models: { m: ['a/x', 'b/y'] } }), retry({ attempts: 2 }), breaker()])
    const result = await gateway.request('m', { stream: true })
    expect(result.status).toBe(200)
    expect(result.attempts).toBe(3) // a twice (retried), then b
    expect(result.text).toContain('"content":"b/y"')
    expect(result.text).toContain('idle_timeout') // the stream ends with an error event
    expect(a.calls).toHaveLength(2)
    expect(b.calls).toHaveLength(1)
    expect(result.record).toMatchObject({ status: 504, outcome: 'timeout_error', provider: 'b', attempts: 3 })
  })

  it('cancels the stream of an error response it discards', async () => {
    let cancelled = 0
    async function* body(): AsyncGenerator<Uint8Array> {
      try { yield new Uint8Array([1]) } finally { cancelled++ }
    }
    let n = 0
    const streamsAnError: SluicePlugin = { name: 'streams-an-error', setup(gw) {
      gw.registerProvider({ name: 'p', formats: ['openai-chat'], async call(request) {
        if (++n > 1) return fakeAnswer(request.target.model)
        const stream = body()
        await stream.next() // started, so return() runs the finally block
        return { status: 503, headers: new Headers(), format: 'openai-chat', stream }
      } })
    } }
    const gateway = await resilienceGateway([streamsAnError, retry()])
    expect((await gateway.request('p/m')).servedBy).toBe('p/m')
    expect(cancelled).toBe(1)
  })
})

function fakeAnswer(model: string) {
  const body = { id: 'x', object: 'chat.completion', created: 0, model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }
  return { status: 200, headers: new Headers(), format: 'openai-chat' as const, body }
}

describe('router + retry + breaker', () => {
  const chain = (models: Record<string, any>) => [
    breaker({ minRequests: 3, failureRatio: 0.5, cooldownMs: 10_000 }),
    retry({ attempts: 2, baseMs: 100 }),
    router({ models }),
  ]

  it('retries, then falls back, then skips the dead target instantly once its circuit is open', async () => {
    const clock = new FakeClock()
    const a = fakeProvider('a', [503])
    const b = fakeProvider('b', ['ok'])
    const gateway = await resilienceGateway([a, b, ...chain({ m: ['a/x', 'b/y'] })], clock)

    const first = await gateway.request('m')
    expect(first.servedBy).toBe('b/y')
    expect(first.attempts).toBe(3) // a, a again, then b
    await gateway.request('m') // a fails twice more: 4 of 4 failed, circuit opens
    const callsToA = a.calls.length

    const before = clock.now()
    const fast = await gateway.request('m')
    expect(fast.servedBy).toBe('b/y')
    expect(fast.attempts).toBe(1)
    expect(fast.ctx.state.router.skipped).toEqual(['a/x'])
    expect(a.calls).toHaveLength(callsToA)
    expect(clock.now()).toBe(before) // no backoff, no wait: the dead target cost nothing
  })

  it('answers 503 with the soonest retry-after when every target is open', async () => {
    const clock = new FakeClock()
    const a = fakeProvider('a', [500])
    const b = fakeProvider('b', [502])
    const gateway = await resilienceGateway([a, b,
      breaker({ minRequests: 2, cooldownMs: 10_000 }), retry({ attempts: 2, baseMs: 100 }), router({ models: { m: ['a/x', 'b/y'] } }),
    ], clock)
    await gateway.request('a/x') // two failures: a opens
    clock.advance(4_000)
    await gateway.request('b/y') // b opens 4 s later
    const calls = a.calls.length + b.calls.length
    const result = await gateway.request('m')
    expect(result.status).toBe(503)
    expect(result.error?.code).toBe('circuit_open')
    // a reopens first: ~6 s from now (the backoff moved the clock by less than 200 ms)
    expect(result.headers.get('retry-after')).toBe('6')
    expect(result.attempts).toBe(0)
    expect(result.record).toMatchObject({ status: 503, attempts: 0 })
    expect(result.ctx.state.router.skipped).toEqual(['a/x', 'b/y'])
    expect(a.calls.length + b.calls.length).toBe(calls)
  })

  it('half-opens after the cooldown and sends a probe to the recovered target', async () => {
    const clock = new FakeClock()
    let aHealthy = false
    const a = fakeProvider('a', () => (aHealthy ? 'ok' : 500))
    const gateway = await resilienceGateway([a, fakeProvider('b', ['ok']), ...chain({ m: ['a/x', 'b/y'] })], clock)
    await gateway.request('m')
    await gateway.request('m')
    expect((await gateway.request('m')).servedBy).toBe('b/y')
    clock.advance(10_000)
    aHealthy = true
    expect((await gateway.request('m')).servedBy).toBe('a/x')
    expect(gateway.breakers().states().find((s) => s.target === 'a/x')!.state).toBe('closed')
  })
})

describe('router: strategies', () => {
  it('latency: prefers the target with the lower moving average', async () => {
    const clock = new FakeClock()
    const slow = fakeProvider('slow', [{ ok: true, latencyMs: 900 }], clock)
    const quick = fakeProvider('quick', [{ ok: true, latencyMs: 100 }], clock)
    const gateway = await resilienceGateway([slow, quick, router({ models: { m: { targets: ['slow/m', 'quick/m'], strategy: 'latency' } }, latency: { explore: 0 } })], clock)
    // Both are measured first (unmeasured targets go first), then the quick one wins.
    await gateway.request('m')
    await gateway.request('m')
    const served = []
    for (let i = 0; i < 10; i++) served.push((await gateway.request('m')).servedBy)
    expect(served).toEqual(Array(10).fill('quick/m'))
    expect(slow.calls).toHaveLength(1)
  })

  it('latency: exploration keeps measuring the slower target now and then', async () => {
    const clock = new FakeClock(3)
    const slow = fakeProvider('slow', [{ ok: true, latencyMs: 900 }], clock)
    const quick = fakeProvider('quick', [{ ok: true, latencyMs: 100 }], clock)
    const gateway = await resilienceGateway([slow, quick, router({ models: { m: { targets: ['slow/m', 'quick/m'], strategy: 'latency' } }, latency: { explore: 0.2 } })], clock)
    for (let i = 0; i < 200; i++) await gateway.request('m')
    expect(slow.calls.length).toBeGreaterThan(5)
    expect(quick.calls.length).toBeGreaterThan(150)
  })

  it('least-inflight: sends the next request to the less busy target, even within a burst', async () => {
    const a = fakeProvider('a', (n) => (n <= 2 ? 'hang' : 'ok'))
    const b = fakeProvider('b', (n) => (n === 1 ? 'hang' : 'ok'))
    const gateway = await resilienceGateway([a, b, router({ models: { m: { targets: ['a/m', 'b/m'], strategy: 'least-inflight' } } })])
    const controllers = [new AbortController(), new AbortController(), new AbortController()]
    // Started together: each is routed before any reaches its provider.
    const hanging = controllers.map((c) => gateway.request('m', { signal: c.signal }))
    await turnsUntil(() => a.calls.length + b.calls.length === 3)
    expect(a.calls).toHaveLength(2) // ties go to config order: a, b, a
    expect(b.calls).toHaveLength(1)
    expect((await gateway.request('m')).servedBy).toBe('b/m')
    for (const c of controllers) c.abort(new DOMException('gone', 'AbortError'))
    for (const outcome of await Promise.all(hanging)) expect(outcome.record.outcome).toBe('client_abort')
    expect((await gateway.request('m')).servedBy).toBe('a/m') // every count went back to zero
  })

  it('least-inflight: a request refused after routing gives its slot back', async () => {
    let refuse = true
    const limiter: SluicePlugin = { name: 'limiter', hooks: { limit: () => { if (refuse) throw new GatewayError(429, 'slow down') } } }
    const gateway = await resilienceGateway([fakeProvider('a', ['ok']), fakeProvider('b', ['ok']), router({ models: { m: { targets: ['a/m', 'b/m'], strategy: 'least-inflight' } } }), limiter])
    for (let i = 0; i < 3; i++) expect((await gateway.request('m')).status).toBe(429)
    refuse = false
    expect((await gateway.request('m')).servedBy).toBe('a/m')
  })

  it('weighted: the share of first picks roughly matches the weights (fixed seed)', async () => {
    const clock = new FakeClock(1234)
    const providers = ['a', 'b', 'c'].map((name) => fakeProvider(name, ['ok']))
    const gateway = await resilienceGateway([...providers, router({ models: { m: { targets: [{ model: 'a/m', weight: 6 }, { model: 'b/m', weight: 3 }, { model: 'c/m', weight: 1 }], strategy: 'weighted' } } })], clock)
    const n = 2_000
    for (let i = 0; i < n; i++) await gateway.request('m')
    const shares = providers.map((p) => p.calls.length / n)
    expect(shares[0]).toBeCloseTo(0.6, 1)
    expect(shares[1]).toBeCloseTo(0.3, 1)
    expect(shares[2]).toBeCloseTo(0.1, 1)
  })

  it('weighted: the rest of the plan is a fallback order over the other targets', async () => {
    const clock = new FakeClock(9)
    const gateway = await resilienceGateway([...['a', 'b', 'c'].map((p) => fakeProvider(p, ['ok'])), router({ models: { m: { targets: ['a/m', 'b/m', 'c/m'], strategy: 'weighted' } } })], clock)
    for (let i = 0; i < 20; i++) {
      const { ctx } = await gateway.request('m')
      expect(new Set(ctx.plan.map((t) => t.provider))).toEqual(new Set(['a', 'b', 'c']))
    }
  })

  it('round-robin: rotates the first target', async () => {
    const gateway = await resilienceGateway([...['a', 'b', 'c'].map((p) => fakeProvider(p, ['ok'])), router({ models: { m: { targets: ['a/m', 'b/m', 'c/m'], strategy: 'round-robin' } } })])
    const served = []
    for (let i = 0; i < 6; i++) served.push((await gateway.request('m')).servedBy)
    expect(served).toEqual(['a/m', 'b/m', 'c/m', 'a/m', 'b/m', 'c/m'])
  })
})
