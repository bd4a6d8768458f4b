/**
 * The GCRA properties every store must keep, driven through the plugin's own hooks with a virtual clock.
 * memory.test.ts and redis.test.ts run it against their store.
 */
import { afterEach, expect, it } from 'vitest'
import { governor, type GovernorOptions } from '../../plugins/governor/index.ts'
import type { SluicePlugin } from '../../core/types.ts'
import { context, limit, settle, setUp, virtualClock, type VirtualClock } from './helpers.ts'

export type StoreOption = NonNullable<GovernorOptions['store']>

export function defineGcraSuite(store: () => StoreOption): void {
  const teardowns: Array<() => Promise<void>> = []
  afterEach(async () => {
    while (teardowns.length) await teardowns.pop()!()
  })

  async function make(options: Omit<GovernorOptions, 'store' | 'clock'>): Promise<{ plugin: SluicePlugin; clock: VirtualClock }> {
    const clock = virtualClock()
    const plugin = governor({ ...options, store: store(), clock })
    teardowns.push(await setUp(plugin, clock))
    return { plugin, clock }
  }

  async function admitted(plugin: SluicePlugin, n: number, init: Parameters<typeof context>[0]): Promise<number> {
    let count = 0
    for (let i = 0; i < n; i++) if (!(await limit(plugin, context(init)))) count++
    return count
  }

  it('admits exactly the burst at one instant, then says when to come back', async () => {
    const { plugin } = await make({ perKey: { rpm: 60, burst: 10 } })
    expect(await admitted(plugin, 25, { key: 'k1' })).toBe(10)
    const refused = await limit(plugin, context({ key: 'k1' }))
    expect(refused?.status).toBe(429)
    expect(refused?.message).toBe('rate limit exceeded: 60 requests per minute for key k1')
    expect(refused?.code).toBe('rate_limit_exceeded')
    expect(refused?.type).toBe('rate_limit_error')
    expect(refused?.retryAfter).toBe(1)
    expect(refused?.headers).toMatchObject({
      'retry-after': '1',
      'retry-after-ms': '1000',
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '10s',
    })
  })

  it('with the default burst (the limit), dense traffic over D ms gets limit + D / interval', async () => {
    const { plugin, clock } = await make({ perKey: { rpm: 100 } })
    let count = 0
    for (let t = 0; t < 60_000; t += 50) {
      if (!(await limit(plugin, context({ key: 'k1' })))) count++
      clock.advance(50)
    }
    // 100 at once, then one every 600 ms: at 600, 1200, ..., 59400 ms.
    expect(count).toBe(100 + 99)
  })

  it('refills at the steady rate: one request per emission interval', async () => {
    const { plugin, clock } = await make({ perKey: { rps: 4, burst: 2 } })
    expect(await admitted(plugin, 5, { key: 'k1' })).toBe(2)
    for (let step = 0; step < 8; step++) {
      clock.advance(125)
      expect(await admitted(plugin, 3, { key: 'k1' })).toBe(0)
      clock.advance(125)
      expect(await admitted(plugin, 3, { key: 'k1' })).toBe(1)
    }
  })

  it('is fair at the boundary: refused 1 ms before retry-after-ms, admitted exactly at it', async () => {
    const { plugin, clock } = await make({ rules: [{ scope: 'global', rpm: 7, burst: 3 }] })
    expect(await admitted(plugin, 3, {})).toBe(3)
    const refused = await limit(plugin, context())
    const waitMs = Number(refused!.headers!['retry-after-ms'])
    expect(waitMs).toBe(Math.ceil(60_000 / 7))
    expect(refused!.message).toBe('rate limit exceeded: 7 requests per minute globally')
    clock.advance(waitMs - 1)
    expect(await limit(plugin, context())).toBeDefined()
    clock.advance(1)
    expect(await limit(plugin, context())).toBeUndefined()
    expect(await limit(plugin, context())).toBeDefined()
  })

  it('keeps keys apart: one key exhausted does not touch another', async () => {
    const { plugin } = await make({ perKey: { rpm: 10, burst: 3 } })
    expect(await admitted(plugin, 5, { key: 'a' })).toBe(3)
    expect(await admitted(plugin, 5, { key: 'b' })).toBe(3)
  })

  it('is all-or-nothing: a refusal by one rule consumes nothing from the others', async () => {
    const { plugin } = await make({ perKey: { rpm: 5, burst: 5 }, rules: [{ scope: 'model', rpm: 2, burst: 2 }] })
    expect(await admitted(plugin, 2, { key: 'k', model: 'm1' })).toBe(2)
    const refused = await limit(plugin, context({ key: 'k', model: 'm1' }))
    expect(refused!.message).toBe('rate limit exceeded: 2 requests per minute for model m1')
    expect(await admitted(plugin, 10, { key: 'k', model: 'm1' })).toBe(0)
    // 3 left on the key: the 11 refusals above took none of them.
    const ctx = context({ key: 'k', model: 'm2' })
    expect(await limit(plugin, ctx)).toBeUndefined()
    expect(ctx.responseHeaders.get('x-ratelimit-remaining-requests')).toBe('1') // model m2 has 1 left, the key 2
    expect(await admitted(plugin, 5, { key: 'k', model: 'm3' })).toBe(2)
  })

  it('names the limit that frees last when several refuse, and its wait', async () => {
    const { plugin } = await make({ rules: [{ scope: 'global', rps: 1, burst: 1 }, { scope: 'key', rpm: 1, burst: 1 }] })
    expect(await limit(plugin, context({ key: 'k' }))).toBeUndefined()
    const refused = await limit(plugin, context({ key: 'k' }))
    expect(refused!.message).toBe('rate limit exceeded: 1 request per minute for key k')
    expect(refused!.retryAfter).toBe(60)
  })

  it('scopes by target (the first planned one) and by key×model', async () => {
    const { plugin } = await make({ rules: [{ scope: 'target', rpm: 1, burst: 1 }, { scope: 'key-model', rpm: 2, burst: 2 }] })
    const plan = (model: string) => [{ provider: 'openai', model }]
    expect(await limit(plugin, context({ key: 'a', model: 'fast', plan: plan('gpt-4o-mini') }))).toBeUndefined()
    const refused = await limit(plugin, context({ key: 'b', model: 'cheap', plan: plan('gpt-4o-mini') }))
    expect(refused!.message).toBe('rate limit exceeded: 1 request per minute for target openai/gpt-4o-mini')
    expect(await limit(plugin, context({ key: 'a', model: 'fast', plan: plan('gpt-4o') }))).toBeUndefined()
    const keyModel = await limit(plugin, context({ key: 'a', model: 'fast', plan: plan('o3') }))
    expect(keyModel!.message).toBe('rate limit exceeded: 2 requests per minute for key a on model fast')
  })

  it('keeps a huge client-chosen model name out of bucket keys and clips it in the message', async () => {
    const { plugin } = await make({ rules: [{ scope: 'model', rpm: 1, burst: 1 }] })
    const model = 'm'.repeat(100_000)
    expect(await limit(plugin, context({ model }))).toBeUndefined()
    const refused = await limit(plugin, context({ model }))
    expect(refused!.message.length).toBeLessThan(300)
    expect(await limit(plugin, context({ model: model + 'x' }))).toBeUndefined()
  })

  it('takes per-key limits from the principal (the keys plugin), over the perKey defaults', async () => {
    const { plugin } = await make({ perKey: { rpm: 100 } })
    expect(await admitted(plugin, 5, { key: 'small', limits: { rpm: 2 } })).toBe(2)
    expect(await admitted(plugin, 5, { key: 'big', limits: { tpm: 'junk' } })).toBe(5)
    const { plugin: keyOnly } = await make({})
    expect(await admitted(keyOnly, 4, { key: 'k', limits: { rpm: 3 } })).toBe(3)
    expect(await admitted(keyOnly, 4, { key: 'k', limits: {} })).toBe(4)
    // A key whose limits object is changed in place gets the new limit (a fresh bucket) at once.
    const limits: Record<string, unknown> = { rpm: 1, burst: 1 }
    expect(await admitted(keyOnly, 2, { key: 'mutable', limits })).toBe(1)
    limits.rpm = 60
    limits.burst = 5
    expect(await admitted(keyOnly, 10, { key: 'mutable', limits })).toBe(5)
  })

  it('reserves estimated tokens, then refunds or charges the real usage', async () => {
    const { plugin } = await make({ perKey: { tpm: 1000 }, defaultMaxTokens: 100 })
    const body = { messages: [{ role: 'user', content: 'x'.repeat(400) }] } // ~100 + 4 prompt tokens
    const first = context({ key: 'k', body })
    expect(await limit(plugin, first)).toBeUndefined()
    expect(first.responseHeaders.get('x-ratelimit-limit-tokens')).toBe('1000')
    expect(first.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe('796')
    await settle(plugin, first, 200, 'ok', { inputTokens: 30, outputTokens: 20 }) // refund 154

    const second = context({ key: 'k', body: { ...body, max_tokens: 10 } })
    expect(await limit(plugin, second)).toBeUndefined()
    expect(second.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 50 - 114))
    await settle(plugin, second, 200, 'ok', { inputTokens: 104, outputTokens: 510 }) // charge 500 more

    const third = context({ key: 'k', body: { ...body, max_completion_tokens: 1 } })
    expect(await limit(plugin, third)).toBeUndefined()
    expect(third.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 50 - 614 - 105))
    const fourth = await limit(plugin, context({ key: 'k', body: { ...body, max_tokens: 300 } }))
    expect(fourth!.message).toBe('rate limit exceeded: 1000 tokens per minute for key k')
    expect(fourth!.headers!['x-ratelimit-remaining-tokens']).toBe('231')
    expect(fourth!.headers!['retry-after-ms']).toBe(String((404 - 231) * 60))
  })

  it('refunds a refused or failed request in full, and a refund never makes the bucket fuller than full', async () => {
    const { plugin } = await make({ perKey: { tpm: 1000 }, defaultMaxTokens: 100 })
    const ctx = context({ key: 'k' })
    expect(await limit(plugin, ctx)).toBeUndefined()
    await settle(plugin, ctx, 502, 'upstream_error')
    await settle(plugin, ctx, 502, 'upstream_error') // settled once only
    const next = context({ key: 'k', body: { messages: [], max_tokens: 1000 } })
    expect(await limit(plugin, next)).toBeUndefined()
    expect(next.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe('0')
    expect(await limit(plugin, context({ key: 'k', body: { messages: [], max_tokens: 1 } }))).toBeDefined()
  })

  it('refuses a request that could never fit, without a retry-after that would lie', async () => {
    const { plugin } = await make({ perKey: { tpm: 1000, rpm: 10 } })
    const refused = await limit(plugin, context({ key: 'k', body: { messages: [], max_tokens: 5000 } }))
    expect(refused!.status).toBe(429)
    expect(refused!.code).toBe('request_too_large')
    expect(refused!.retryAfter).toBeUndefined()
    expect(refused!.message).toContain('5000 tokens')
    // Nothing was taken from the request bucket either.
    expect(await admitted(plugin, 20, { key: 'k', body: { messages: [], max_tokens: 1 } })).toBe(10)
  })

  it('releases a concurrency slot on every exit path, exactly once', async () => {
    const { plugin } = await make({ perKey: { maxConcurrent: 2 } })
    const exits: Array<[number, string]> = [[200, 'ok'], [502, 'upstream_error'], [499, 'client_abort'], [504, 'timeout'], [403, 'permission_error']]
    const held = [context({ key: 'k' }), context({ key: 'k' })]
    for (const ctx of held) expect(await limit(plugin, ctx)).toBeUndefined()
    for (const [status, outcome] of exits) {
      const refused = await limit(plugin, context({ key: 'k' }))
      expect(refused!.message).toBe('concurrency limit exceeded: 2 requests in flight for key k')
      expect(refused!.retryAfter).toBe(1)
      // A refused request's record releases nothing.
      const ctxRefused = context({ key: 'k' })
      await settle(plugin, ctxRefused, 429, 'rate_limit_error')
      const done = held.shift()!
      await settle(plugin, done, status, outcome)
      await settle(plugin, done, status, outcome)
      const next = context({ key: 'k' })
      expect(await limit(plugin, next)).toBeUndefined()
      held.push(next)
    }
    expect(await limit(plugin, context({ key: 'k' }))).toBeDefined()
    expect(await limit(plugin, context({ key: 'other' }))).toBeUndefined()
  })

  it('a concurrency refusal consumes no rate, and a rate refusal holds no slot', async () => {
    const { plugin, clock } = await make({ perKey: { maxConcurrent: 1, rpm: 3, burst: 3 } })
    const first = context({ key: 'k' })
    expect(await limit(plugin, first)).toBeUndefined()
    expect(await admitted(plugin, 5, { key: 'k' })).toBe(0)
    await settle(plugin, first)
    for (let i = 0; i < 2; i++) {
      const ctx = context({ key: 'k' })
      expect(await limit(plugin, ctx)).toBeUndefined()
      await settle(plugin, ctx)
    }
    const limited = await limit(plugin, context({ key: 'k' }))
    expect(limited!.message).toBe('rate limit exceeded: 3 requests per minute for key k')
    expect(await limit(plugin, context({ key: 'k' }))).toBeDefined()
    clock.advance(20_000) // one request's worth: admitted, so the rate refusals held no slot
    expect(await limit(plugin, context({ key: 'k' }))).toBeUndefined()
  })

  it('sets the OpenAI-style headers on admitted requests', async () => {
    const { plugin } = await make({ perKey: { rpm: 60, tpm: 6000 }, defaultMaxTokens: 96 })
    const ctx = context({ key: 'k', body: { messages: [] } })
    expect(await limit(plugin, ctx)).toBeUndefined()
    expect(Object.fromEntries(ctx.responseHeaders)).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '6000',
      'x-ratelimit-remaining-tokens': '5904',
      'x-ratelimit-reset-tokens': '960ms',
    })
  })
}
