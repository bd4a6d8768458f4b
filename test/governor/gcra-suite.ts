/**
 * The GCRA properties every store must keep, driven through the plugin's own hooks on the testing kit's plugin
 * harness with a virtual clock. memory.test.ts and redis.test.ts run it against their store.
 *
 * Token numbers follow the core's shared estimate: the input is every string of the body, object keys
 * included, at ~4 characters per token (rounded up); the output is the request's cap (`max_completion_tokens`
 * over `max_tokens`, times `n`), else the governor's `defaultMaxTokens`.
 */
import { afterEach, expect, it } from 'vitest'
import { definePlugin, GatewayError } from '../../core/index.ts'
import type { GovernorOptions } from '../../plugins/governor/index.ts'
import { startGovernor, virtualClock, type GovernorRig, type RequestInit, type VirtualClock } from './helpers.ts'

export type StoreOption = NonNullable<GovernorOptions['store']>

/** A limit hook configured after the governor that refuses requests carrying `x-refuse` (a budget, a guard). */
const laterGate = definePlugin(() => ({
  name: 'later-gate',
  hooks: {
    limit(ctx) {
      if (ctx.request.headers.has('x-refuse')) throw new GatewayError(403, 'refused by a later gate', { type: 'permission_error' })
    },
  },
}))

export function defineGcraSuite(store: () => StoreOption): void {
  const rigs: GovernorRig[] = []
  afterEach(async () => {
    while (rigs.length) await rigs.pop()!.close()
  })

  async function make(options: Omit<GovernorOptions, 'store' | 'clock'>, withLaterGate = false): Promise<GovernorRig & { clock: VirtualClock }> {
    const clock = virtualClock()
    const rig = await startGovernor({ ...options, store: store(), clock }, { clock, others: withLaterGate ? [laterGate()] : [] })
    rigs.push(rig)
    return { ...rig, clock }
  }

  async function admitted(gov: GovernorRig, n: number, init: RequestInit = {}): Promise<number> {
    let count = 0
    for (let i = 0; i < n; i++) if (!(await gov.limit(init))) count++
    return count
  }

  it('admits exactly the burst at one instant, then says when to come back', async () => {
    const gov = await make({ perKey: { rpm: 60, burst: 10 } })
    expect(await admitted(gov, 25, { key: 'k1' })).toBe(10)
    const refused = await gov.limit({ key: 'k1' })
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
    const gov = await make({ perKey: { rpm: 100 } })
    let count = 0
    for (let t = 0; t < 60_000; t += 50) {
      if (!(await gov.limit({ key: 'k1' }))) count++
      gov.clock.advance(50)
    }
    // 100 at once, then one every 600 ms: at 600, 1200, ..., 59400 ms.
    expect(count).toBe(100 + 99)
  })

  it('refills at the steady rate: one request per emission interval', async () => {
    const gov = await make({ perKey: { rps: 4, burst: 2 } })
    expect(await admitted(gov, 5, { key: 'k1' })).toBe(2)
    for (let step = 0; step < 8; step++) {
      gov.clock.advance(125)
      expect(await admitted(gov, 3, { key: 'k1' })).toBe(0)
      gov.clock.advance(125)
      expect(await admitted(gov, 3, { key: 'k1' })).toBe(1)
    }
  })

  it('is fair at the boundary: refused 1 ms before retry-after-ms, admitted exactly at it', async () => {
    const gov = await make({ rules: [{ scope: 'global', rpm: 7, burst: 3 }] })
    expect(await admitted(gov, 3, {})).toBe(3)
    const refused = await gov.limit()
    const waitMs = Number(refused!.headers!['retry-after-ms'])
    expect(waitMs).toBe(Math.ceil(60_000 / 7))
    expect(refused!.message).toBe('rate limit exceeded: 7 requests per minute globally')
    gov.clock.advance(waitMs - 1)
    expect(await gov.limit()).toBeDefined()
    gov.clock.advance(1)
    expect(await gov.limit()).toBeUndefined()
    expect(await gov.limit()).toBeDefined()
  })

  it('keeps keys apart: one key exhausted does not touch another', async () => {
    const gov = await make({ perKey: { rpm: 10, burst: 3 } })
    expect(await admitted(gov, 5, { key: 'a' })).toBe(3)
    expect(await admitted(gov, 5, { key: 'b' })).toBe(3)
  })

  it('is all-or-nothing: a refusal by one rule consumes nothing from the others', async () => {
    const gov = await make({ perKey: { rpm: 5, burst: 5 }, rules: [{ scope: 'model', rpm: 2, burst: 2 }] })
    expect(await admitted(gov, 2, { key: 'k', model: 'm1' })).toBe(2)
    const refused = await gov.limit({ key: 'k', model: 'm1' })
    expect(refused!.message).toBe('rate limit exceeded: 2 requests per minute for model m1')
    expect(await admitted(gov, 10, { key: 'k', model: 'm1' })).toBe(0)
    // 3 left on the key: the 11 refusals above took none of them.
    const ctx = gov.request({ key: 'k', model: 'm2' })
    expect(await gov.limit(ctx)).toBeUndefined()
    expect(ctx.responseHeaders.get('x-ratelimit-remaining-requests')).toBe('1') // model m2 has 1 left, the key 2
    expect(await admitted(gov, 5, { key: 'k', model: 'm3' })).toBe(2)
  })

  it('names the limit that frees last when several refuse, and its wait', async () => {
    const gov = await make({ rules: [{ scope: 'global', rps: 1, burst: 1 }, { scope: 'key', rpm: 1, burst: 1 }] })
    expect(await gov.limit({ key: 'k' })).toBeUndefined()
    const refused = await gov.limit({ key: 'k' })
    expect(refused!.message).toBe('rate limit exceeded: 1 request per minute for key k')
    expect(refused!.retryAfter).toBe(60)
  })

  it('scopes by target (the first planned one) and by key×model', async () => {
    const gov = await make({ rules: [{ scope: 'target', rpm: 1, burst: 1 }, { scope: 'key-model', rpm: 2, burst: 2 }] })
    const plan = (model: string) => [{ provider: 'openai', model }]
    expect(await gov.limit({ key: 'a', model: 'fast', plan: plan('gpt-4o-mini') })).toBeUndefined()
    const refused = await gov.limit({ key: 'b', model: 'cheap', plan: plan('gpt-4o-mini') })
    expect(refused!.message).toBe('rate limit exceeded: 1 request per minute for target openai/gpt-4o-mini')
    expect(await gov.limit({ key: 'a', model: 'fast', plan: plan('gpt-4o') })).toBeUndefined()
    const keyModel = await gov.limit({ key: 'a', model: 'fast', plan: plan('o3') })
    expect(keyModel!.message).toBe('rate limit exceeded: 2 requests per minute for key a on model fast')
  })

  it('keeps a huge client-chosen model name out of bucket keys and clips it in the message', async () => {
    const gov = await make({ rules: [{ scope: 'model', rpm: 1, burst: 1 }] })
    const model = 'm'.repeat(100_000)
    expect(await gov.limit({ model })).toBeUndefined()
    const refused = await gov.limit({ model })
    expect(refused!.message.length).toBeLessThan(300)
    expect(await gov.limit({ model: model + 'x' })).toBeUndefined()
  })

  it('takes per-key limits from the principal (the keys plugin), over the perKey defaults', async () => {
    const gov = await make({ perKey: { rpm: 100 } })
    expect(await admitted(gov, 5, { key: 'small', limits: { rpm: 2 } })).toBe(2)
    expect(await admitted(gov, 5, { key: 'big', limits: { tpm: 'junk' } })).toBe(5)
    const keyOnly = await make({})
    expect(await admitted(keyOnly, 4, { key: 'k', limits: { rpm: 3 } })).toBe(3)
    expect(await admitted(keyOnly, 4, { key: 'k', limits: {} })).toBe(4)
    // A key whose limits object is changed in place gets the new limit (a fresh bucket) at once.
    const limits: Record<string, unknown> = { rpm: 1, burst: 1 }
    expect(await admitted(keyOnly, 2, { key: 'mutable', limits })).toBe(1)
    limits.rpm = 60
    limits.burst = 5
    expect(await admitted(keyOnly, 10, { key: 'mutable', limits })).toBe(5)
  })

  it('reserves estimated tokens, then the settle function refunds or charges the real usage', async () => {
    const gov = await make({ perKey: { tpm: 1000 }, defaultMaxTokens: 100 })
    const body = { messages: [{ role: 'user', content: 'x'.repeat(400) }] }
    // Keys "messages" 8 + "role" 4 + "content" 7, strings "user" 4 + 400: 423 characters, 106 tokens.
    const prompt = 106
    const first = gov.request({ key: 'k', body })
    expect(await gov.limit(first)).toBeUndefined()
    expect(first.responseHeaders.get('x-ratelimit-limit-tokens')).toBe('1000')
    expect(first.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - prompt - 100)) // no cap: defaultMaxTokens
    await gov.finish(first, { usage: { inputTokens: 30, outputTokens: 20 } }) // refunds 206 - 50 = 156

    // "max_tokens" adds 10 characters: 433, 109 tokens.
    const second = gov.request({ key: 'k', body: { ...body, max_tokens: 10 } })
    expect(await gov.limit(second)).toBeUndefined()
    expect(second.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 50 - (109 + 10)))
    await gov.finish(second, { usage: { inputTokens: 104, outputTokens: 510 } }) // charges 614 - 119 = 495 more

    // "max_completion_tokens" adds 21 characters: 444, 111 tokens; its cap is 1.
    const third = gov.request({ key: 'k', body: { ...body, max_completion_tokens: 1 } })
    expect(await gov.limit(third)).toBeUndefined()
    expect(third.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 50 - 614 - (111 + 1)))
    // 109 + 300 = 409 tokens asked, 224 left: refused until 185 more tokens (60 ms each) have come back.
    const fourth = await gov.limit({ key: 'k', body: { ...body, max_tokens: 300 } })
    expect(fourth!.message).toBe('rate limit exceeded: 1000 tokens per minute for key k')
    expect(fourth!.headers!['x-ratelimit-remaining-tokens']).toBe('224')
    expect(fourth!.headers!['retry-after-ms']).toBe(String((409 - 224) * 60))
  })

  it('refunds a failed request in full, exactly once, and a refund never makes the bucket fuller than full', async () => {
    const gov = await make({ perKey: { tpm: 1000 }, defaultMaxTokens: 100 })
    const ctx = gov.request({ key: 'k' })
    expect(await gov.limit(ctx)).toBeUndefined()
    expect(ctx.settles).toHaveLength(1)
    const [settle] = ctx.settles
    const record = await gov.finish(ctx, { status: 502, outcome: 'upstream_error' })
    await settle!(record) // called again, it refunds nothing more
    // {"messages":[],"max_tokens":995}: keys 8 + 10 characters, 5 tokens, plus 995: the whole bucket.
    const next = gov.request({ key: 'k', body: { messages: [], max_tokens: 995 } })
    expect(await gov.limit(next)).toBeUndefined()
    expect(next.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe('0')
    expect(await gov.limit({ key: 'k', body: { messages: [], max_tokens: 1 } })).toBeDefined()
  })

  it('refuses a request that could never fit, without a retry-after that would lie', async () => {
    const gov = await make({ perKey: { tpm: 1000, rpm: 10 } })
    const refused = await gov.limit({ key: 'k', body: { messages: [], max_tokens: 5000 } })
    expect(refused!.status).toBe(429)
    expect(refused!.code).toBe('request_too_large')
    expect(refused!.retryAfter).toBeUndefined()
    expect(refused!.message).toContain('about 5005 tokens') // 5 for {"messages":[],"max_tokens":…}, 5000 asked
    // Nothing was taken from the request bucket either.
    expect(await admitted(gov, 20, { key: 'k', body: { messages: [], max_tokens: 1 } })).toBe(10)
  })

  it('releases a concurrency slot on every exit path, exactly once', async () => {
    const gov = await make({ perKey: { maxConcurrent: 2 } })
    const exits: Array<[number, string]> = [[200, 'ok'], [502, 'upstream_error'], [499, 'client_abort'], [504, 'timeout'], [403, 'permission_error']]
    const held = [gov.request({ key: 'k' }), gov.request({ key: 'k' })]
    for (const ctx of held) expect(await gov.limit(ctx)).toBeUndefined()
    for (const [status, outcome] of exits) {
      const refusedCtx = gov.request({ key: 'k' })
      const refused = await gov.limit(refusedCtx)
      expect(refused!.message).toBe('concurrency limit exceeded: 2 requests in flight for key k')
      expect(refused!.retryAfter).toBe(1)
      // A refused request holds nothing: it has no settle function, and ending it releases nothing.
      expect(refusedCtx.settles).toHaveLength(0)
      await gov.finish(refusedCtx, { status: 429, outcome: 'rate_limit_error' })
      const done = held.shift()!
      const [settle] = done.settles
      const record = await gov.finish(done, { status, outcome })
      await settle!(record) // a second call releases nothing more
      const next = gov.request({ key: 'k' })
      expect(await gov.limit(next)).toBeUndefined()
      held.push(next)
    }
    expect(await gov.limit({ key: 'k' })).toBeDefined()
    expect(await gov.limit({ key: 'other' })).toBeUndefined()
  })

  it('settles a request that a later gate refused: its slot and its tokens come back', async () => {
    const gov = await make({ perKey: { maxConcurrent: 1, tpm: 1000 }, defaultMaxTokens: 100 }, true)
    const refusedLater = gov.request({ key: 'k', headers: { 'x-refuse': '1' } })
    const refusal = await gov.limit(refusedLater)
    expect(refusal?.status).toBe(403)
    expect(refusal?.message).toBe('refused by a later gate')
    // The governor admitted it (and reserved) before the later gate refused: its settle function is pending.
    expect(refusedLater.settles).toHaveLength(1)
    expect(await gov.limit({ key: 'k' })).toMatchObject({ status: 429, code: 'rate_limit_exceeded' })
    await gov.finish(refusedLater, { status: 403, outcome: 'permission_error' })

    // Default body {"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}: 51
    // characters, 13 tokens, plus defaultMaxTokens 100. The refused request's 113 are back in full.
    const next = gov.request({ key: 'k' })
    expect(await gov.limit(next)).toBeUndefined()
    expect(next.responseHeaders.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 113))
  })

  it('a concurrency refusal consumes no rate, and a rate refusal holds no slot', async () => {
    const gov = await make({ perKey: { maxConcurrent: 1, rpm: 3, burst: 3 } })
    const first = gov.request({ key: 'k' })
    expect(await gov.limit(first)).toBeUndefined()
    expect(await admitted(gov, 5, { key: 'k' })).toBe(0)
    await gov.finish(first)
    for (let i = 0; i < 2; i++) {
      const ctx = gov.request({ key: 'k' })
      expect(await gov.limit(ctx)).toBeUndefined()
      await gov.finish(ctx)
    }
    const limited = await gov.limit({ key: 'k' })
    expect(limited!.message).toBe('rate limit exceeded: 3 requests per minute for key k')
    expect(await gov.limit({ key: 'k' })).toBeDefined()
    gov.clock.advance(20_000) // one request's worth: admitted, so the rate refusals held no slot
    expect(await gov.limit({ key: 'k' })).toBeUndefined()
  })

  it('sets the OpenAI-style headers on admitted requests', async () => {
    const gov = await make({ perKey: { rpm: 60, tpm: 6000 }, defaultMaxTokens: 96 })
    // {"messages":[]}: 8 characters, 2 tokens, plus defaultMaxTokens 96: 98 tokens, 10 ms each to come back.
    const ctx = gov.request({ key: 'k', body: { messages: [] } })
    expect(await gov.limit(ctx)).toBeUndefined()
    expect(Object.fromEntries(ctx.responseHeaders)).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '6000',
      'x-ratelimit-remaining-tokens': '5902',
      'x-ratelimit-reset-tokens': '980ms',
    })
  })
}
