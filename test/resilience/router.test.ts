import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../core/errors.ts'
import { timeoutError } from '../../core/upstream.ts'
import { router } from '../../plugins/router/index.ts'
import { retry } from '../../plugins/retry/index.ts'
import { breaker } from '../../plugins/breaker/index.ts'
import { createTestGateway, FakeClock, fakeProvider, servedBy, statusOf } from './harness.ts'

describe('router: aliases and plans', () => {
  it('resolves an alias to an ordered plan with per-target params and timeouts', async () => {
    const a = fakeProvider('a', ['ok'])
    const b = fakeProvider('b', ['ok'])
    const gateway = await createTestGateway([router({ models: {
      fast: [{ model: 'a/small', params: { temperature: 0 }, timeouts: { firstByte: 2_000 } }, 'b/tiny-v2'],
    } })], [a, b])
    const result = await gateway.request('fast')
    expect(result.ctx.plan.map((t) => `${t.provider}/${t.model}`)).toEqual(['a/small', 'b/tiny-v2'])
    expect(servedBy(result)).toBe('a/small')
    expect(a.calls[0]!.body).toMatchObject({ model: 'small', temperature: 0 })
    expect(a.calls[0]!.timeouts).toEqual({ firstByte: 2_000 })
  })

  it('lists the aliases it can serve in /v1/models', async () => {
    const gateway = await createTestGateway([router({ models: { fast: 'a/x', smart: ['ghost/y', 'b/z'], dead: 'ghost/q' } })], [fakeProvider('a', ['ok']), fakeProvider('b', ['ok'])])
    expect(gateway.models()).toEqual(['fast', 'smart'])
  })

  it('leaves provider/model requests and a plan set by an earlier route hook alone', async () => {
    const first = { name: 'pin', order: -50, hooks: { route: (ctx: any) => { if (ctx.model === 'pinned') ctx.plan = [{ provider: 'b', model: 'm' }] } } }
    const gateway = await createTestGateway([first, router({ models: { pinned: 'a/m' } })], [fakeProvider('a', ['ok']), fakeProvider('b', ['ok'])])
    expect(servedBy(await gateway.request('pinned'))).toBe('b/m')
    expect(servedBy(await gateway.request('a/direct'))).toBe('a/direct')
  })

  it('skips targets whose provider is not registered (warned once, for every alias), 404 when none is', async () => {
    const gateway = await createTestGateway([router({ models: { mixed: ['ghost/m', 'a/m'], dead: ['ghost/m'], ok: 'a/x' } })], [fakeProvider('a', ['ok'])])
    expect(servedBy(await gateway.request('mixed'))).toBe('a/m')
    await gateway.request('mixed')
    // reported once every setup ran (onReady), for every alias at once, and only once
    expect(gateway.warnings).toEqual([
      'router: no provider "ghost" is registered; its targets are skipped in models "mixed", "dead"',
      'router: model "dead" has no registered provider at all: requests for it get 404',
    ])
    const dead = await gateway.request('dead')
    expect(statusOf(dead)).toBe(404)
    expect((dead as any).error.code).toBe('model_not_found')
    expect(gateway.warnings).toHaveLength(2)
  })

  it('checks once every setup ran: a provider registered in a later setup is not reported, a typo is', async () => {
    const late = fakeProvider('late', ['ok'])
    // order 0: its setup runs after the router's (-30), like every provider plugin's
    const latePlugin = { name: 'late-provider', setup: (gw: any) => { gw.registerProvider(late) } }
    const gateway = await createTestGateway([router({ models: { m: ['late/x'], typo: ['lat/x'] } }), latePlugin], [])
    expect(statusOf(await gateway.request('some/direct-model'))).toBe(404)
    expect(gateway.warnings).toEqual([
      'router: no provider "lat" is registered; its targets are skipped in model "typo"',
      'router: model "typo" has no registered provider at all: requests for it get 404',
    ])
    expect(servedBy(await gateway.request('m'))).toBe('late/x')
  })

  it('checks at boot when the core offers a ready signal (onReady), before any request', async () => {
    const ready: Array<() => void> = []
    const warnings: string[] = []
    const plugin = router({ models: { m: ['ghost/x', 'a/y'] } })
    const providers = new Map<string, unknown>()
    await plugin.setup!({
      name: 'router', clock: new FakeClock(), logger: { warn: (line: string) => warnings.push(line) },
      getProvider: (name: string) => providers.get(name), addModels: () => {}, inject: () => undefined,
      onReady: (fn: () => void) => { ready.push(fn) },
    } as any)
    providers.set('a', {}) // a provider plugin set up after the router
    expect(warnings).toEqual([])
    for (const fn of ready) fn()
    expect(warnings).toEqual(['router: no provider "ghost" is registered; its targets are skipped in model "m"'])
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
    const a = fakeProvider('a', [failure])
    const b = fakeProvider('b', ['ok'])
    const gateway = await createTestGateway([router({ models: { m: ['a/x', 'b/y'] } })], [a, b])
    const result = await gateway.request('m')
    expect(servedBy(result)).toBe('b/y')
    expect(result.ctx.attempts).toBe(2)
    expect(result.ctx.target).toEqual({ provider: 'b', model: 'y' })
  })

  it.each([400, 404])('never falls back on a %i', async (status) => {
    const b = fakeProvider('b', ['ok'])
    const gateway = await createTestGateway([router({ models: { m: ['a/x', 'b/y'] } })], [fakeProvider('a', [status as 400]), b])
    expect(statusOf(await gateway.request('m'))).toBe(status)
    expect(b.calls).toHaveLength(0)
  })

  it('fallbackOn per alias overrides the default', async () => {
    const b = fakeProvider('b', ['ok'])
    const gateway = await createTestGateway([router({ models: { m: { targets: ['a/x', 'b/y'], fallbackOn: [404] } } })], [fakeProvider('a', [429]), b])
    expect(statusOf(await gateway.request('m'))).toBe(429)
    expect(b.calls).toHaveLength(0)
  })

  it('surfaces the last failure when every target fails', async () => {
    const gateway = await createTestGateway([router({ models: { m: ['a/x', 'b/y'] } })], [fakeProvider('a', [500]), fakeProvider('b', [{ status: 429, retryAfter: 3 }])])
    const result = await gateway.request('m')
    expect(statusOf(result)).toBe(429)
    expect((result as any).error.retryAfter).toBe(3)
  })

  it('stops falling back once the client has gone', async () => {
    const controller = new AbortController()
    const b = fakeProvider('b', ['ok'])
    const a = fakeProvider('a', () => { controller.abort(new DOMException('gone', 'AbortError')); return 500 })
    const gateway = await createTestGateway([router({ models: { m: ['a/x', 'b/y'] } })], [a, b])
    const result = await gateway.request('m', { signal: controller.signal })
    expect(result.ok).toBe(false)
    expect(b.calls).toHaveLength(0)
  })
})

describe('streams', () => {
  async function* stalls(): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('data: {"choices":[]}\n\n')
    throw timeoutError('idle', 1000)
  }

  it('falls back before the first byte, and never retries once the stream has started', async () => {
    const a = fakeProvider('a', ['timeout']) // a first-byte timeout: still inside `call`
    const b: any = { name: 'b', formats: ['openai-chat'], calls: [] as unknown[], async call(request: unknown) {
      b.calls.push(request)
      return { status: 200, headers: new Headers({ 'content-type': 'text/event-stream' }), format: 'openai-chat', stream: stalls() }
    } }
    const clock = new FakeClock()
    const gateway = await createTestGateway([router({ models: { m: ['a/x', 'b/y'] }, clock }), retry({ attempts: 2, clock }), breaker({ clock })], [a, b], clock)
    const result = await gateway.request('m')
    if (!result.ok) throw result.error
    expect(result.ctx.attempts).toBe(3) // a twice (retried), then b
    const chunks: Uint8Array[] = []
    await expect((async () => { for await (const chunk of result.response.stream!) chunks.push(chunk) })()).rejects.toMatchObject({ status: 504 })
    expect(chunks).toHaveLength(1)
    expect(b.calls).toHaveLength(1)
    expect(result.ctx.attempts).toBe(3)
  })

  it('cancels the stream of an error response it discards', async () => {
    let cancelled = 0
    async function* body(): AsyncGenerator<Uint8Array> {
      try { yield new Uint8Array([1]) } finally { cancelled++ }
    }
    let n = 0
    const p: any = { name: 'p', formats: ['openai-chat'], async call() {
      if (++n === 1) {
        const stream = body()
        await stream.next() // started, so return() runs the finally block
        return { status: 503, headers: new Headers(), format: 'openai-chat', stream }
      }
      return { status: 200, headers: new Headers(), format: 'openai-chat', body: { provider: 'p', model: 'm' } }
    } }
    const gateway = await createTestGateway([retry()], [p])
    expect(servedBy(await gateway.request('p/m'))).toBe('p/m')
    expect(cancelled).toBe(1)
  })
})

describe('router + retry + breaker', () => {
  const chain = (clock: FakeClock, models: Record<string, any>) => [
    breaker({ minRequests: 3, failureRatio: 0.5, cooldownMs: 10_000, clock }),
    retry({ attempts: 2, baseMs: 100, clock }),
    router({ models, clock }),
  ]

  it('retries, then falls back, then skips the dead target instantly once its circuit is open', async () => {
    const clock = new FakeClock()
    const a = fakeProvider('a', [503])
    const b = fakeProvider('b', ['ok'])
    const gateway = await createTestGateway(chain(clock, { m: ['a/x', 'b/y'] }), [a, b], clock)

    const first = await gateway.request('m')
    expect(servedBy(first)).toBe('b/y')
    expect(first.ctx.attempts).toBe(3) // a, a again, then b
    await gateway.request('m') // a fails twice more: 4 of 4 failed, circuit opens
    const callsToA = a.calls.length

    const before = clock.now()
    const fast = await gateway.request('m')
    expect(servedBy(fast)).toBe('b/y')
    expect(fast.ctx.attempts).toBe(1)
    expect(fast.ctx.state.router.skipped).toEqual(['a/x'])
    expect(a.calls).toHaveLength(callsToA)
    expect(clock.now()).toBe(before) // no backoff, no wait: the dead target cost nothing
  })

  it('answers 503 with the soonest retry-after when every target is open', async () => {
    const clock = new FakeClock()
    const a = fakeProvider('a', [500])
    const b = fakeProvider('b', [502])
    const gateway = await createTestGateway([
      breaker({ minRequests: 2, cooldownMs: 10_000, clock }), retry({ attempts: 2, baseMs: 100, clock }), router({ models: { m: ['a/x', 'b/y'] }, clock }),
    ], [a, b], clock)
    await gateway.request('a/x') // two failures: a opens
    clock.advance(4_000)
    await gateway.request('b/y') // b opens 4 s later
    const calls = a.calls.length + b.calls.length
    const result = await gateway.request('m')
    expect(statusOf(result)).toBe(503)
    expect((result as any).error.code).toBe('circuit_open')
    // a reopens first: ~6 s from now (the backoff moved the clock by less than 200 ms)
    expect((result as any).error.retryAfter).toBe(6)
    expect(result.ctx.attempts).toBe(0)
    expect(result.ctx.state.router.skipped).toEqual(['a/x', 'b/y'])
    expect(a.calls.length + b.calls.length).toBe(calls)
  })

  it('half-opens after the cooldown and sends a probe to the recovered target', async () => {
    const clock = new FakeClock()
    let aHealthy = false
    const a = fakeProvider('a', () => (aHealthy ? 'ok' : 500))
    const gateway = await createTestGateway(chain(clock, { m: ['a/x', 'b/y'] }), [a, fakeProvider('b', ['ok'])], clock)
    await gateway.request('m')
    await gateway.request('m')
    expect(servedBy(await gateway.request('m'))).toBe('b/y')
    clock.advance(10_000)
    aHealthy = true
    expect(servedBy(await gateway.request('m'))).toBe('a/x')
    expect(gateway.gw.inject('breakers')!.states().find((s) => s.target === 'a/x')!.state).toBe('closed')
  })
})

describe('router: strategies', () => {
  it('latency: prefers the target with the lower moving average', async () => {
    const clock = new FakeClock()
    const slow = fakeProvider('slow', [{ ok: true, latencyMs: 900 }], clock)
    const quick = fakeProvider('quick', [{ ok: true, latencyMs: 100 }], clock)
    const gateway = await createTestGateway([router({ models: { m: { targets: ['slow/m', 'quick/m'], strategy: 'latency' } }, latency: { explore: 0 } })], [slow, quick], clock)
    // Both are measured first (unmeasured targets go first), then the quick one wins.
    await gateway.request('m')
    await gateway.request('m')
    const served = []
    for (let i = 0; i < 10; i++) served.push(servedBy(await gateway.request('m')))
    expect(served).toEqual(Array(10).fill('quick/m'))
    expect(slow.calls).toHaveLength(1)
  })

  it('latency: exploration keeps measuring the slower target now and then', async () => {
    const clock = new FakeClock(3)
    const slow = fakeProvider('slow', [{ ok: true, latencyMs: 900 }], clock)
    const quick = fakeProvider('quick', [{ ok: true, latencyMs: 100 }], clock)
    const gateway = await createTestGateway([router({ models: { m: { targets: ['slow/m', 'quick/m'], strategy: 'latency' } }, latency: { explore: 0.2 } })], [slow, quick], clock)
    for (let i = 0; i < 200; i++) await gateway.request('m')
    expect(slow.calls.length).toBeGreaterThan(5)
    expect(quick.calls.length).toBeGreaterThan(150)
  })

  it('least-inflight: sends the next request to the less busy target, even within a burst', async () => {
    const a = fakeProvider('a', (n) => (n <= 2 ? 'hang' : 'ok'))
    const b = fakeProvider('b', (n) => (n === 1 ? 'hang' : 'ok'))
    const gateway = await createTestGateway([router({ models: { m: { targets: ['a/m', 'b/m'], strategy: 'least-inflight' } } })], [a, b])
    const controllers = [new AbortController(), new AbortController(), new AbortController()]
    // Started together: each is routed before any reaches its provider.
    const hanging = controllers.map((c) => gateway.request('m', { signal: c.signal }))
    await new Promise((resolve) => setImmediate(resolve))
    expect(a.calls).toHaveLength(2) // ties go to config order: a, b, a
    expect(b.calls).toHaveLength(1)
    expect(servedBy(await gateway.request('m'))).toBe('b/m')
    for (const c of controllers) c.abort(new DOMException('gone', 'AbortError'))
    await Promise.all(hanging)
    expect(servedBy(await gateway.request('m'))).toBe('a/m') // every count went back to zero
  })

  it('least-inflight: a request refused after routing gives its slot back', async () => {
    let refuse = true
    const limiter = { name: 'limiter', hooks: { limit: () => { if (refuse) throw new GatewayError(429, 'slow down') } } }
    const gateway = await createTestGateway([router({ models: { m: { targets: ['a/m', 'b/m'], strategy: 'least-inflight' } } }), limiter], [fakeProvider('a', ['ok']), fakeProvider('b', ['ok'])])
    for (let i = 0; i < 3; i++) expect(statusOf(await gateway.request('m'))).toBe(429)
    refuse = false
    expect(servedBy(await gateway.request('m'))).toBe('a/m')
  })

  it('weighted: the share of first picks roughly matches the weights (fixed seed)', async () => {
    const clock = new FakeClock(1234)
    const providers = ['a', 'b', 'c'].map((name) => fakeProvider(name, ['ok']))
    const gateway = await createTestGateway([router({ models: { m: { targets: [{ model: 'a/m', weight: 6 }, { model: 'b/m', weight: 3 }, { model: 'c/m', weight: 1 }], strategy: 'weighted' } } })], providers, clock)
    const n = 5_000
    for (let i = 0; i < n; i++) await gateway.request('m')
    const shares = providers.map((p) => p.calls.length / n)
    expect(shares[0]).toBeCloseTo(0.6, 1)
    expect(shares[1]).toBeCloseTo(0.3, 1)
    expect(shares[2]).toBeCloseTo(0.1, 1)
  })

  it('weighted: the rest of the plan is a fallback order over the other targets', async () => {
    const clock = new FakeClock(9)
    const gateway = await createTestGateway([router({ models: { m: { targets: ['a/m', 'b/m', 'c/m'], strategy: 'weighted' } } })], ['a', 'b', 'c'].map((p) => fakeProvider(p, ['ok'])), clock)
    for (let i = 0; i < 20; i++) {
      const { ctx } = await gateway.request('m')
      expect(new Set(ctx.plan.map((t) => t.provider))).toEqual(new Set(['a', 'b', 'c']))
    }
  })

  it('round-robin: rotates the first target', async () => {
    const gateway = await createTestGateway([router({ models: { m: { targets: ['a/m', 'b/m', 'c/m'], strategy: 'round-robin' } } })], ['a', 'b', 'c'].map((p) => fakeProvider(p, ['ok'])))
    const served = []
    for (let i = 0; i < 6; i++) served.push(servedBy(await gateway.request('m')))
    expect(served).toEqual(['a/m', 'b/m', 'c/m', 'a/m', 'b/m', 'c/m'])
  })
})
