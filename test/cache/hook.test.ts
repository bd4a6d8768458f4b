/**
 * The cache's `call` hook alone, on the plugin harness, with an upstream (`next`) the test resolves by hand: the
 * single-flight hand-offs in an order the test decides, with no timing involved.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Attempt, CallNext, GatewayHooks, ProviderResponse, ResponseView, StreamDelta } from '../../core/index.ts'
import { GatewayError } from '../../core/index.ts'
import { cache, type CacheOptions } from '../../plugins/cache/index.ts'
import { pluginHarness, type PluginHarness } from '../../testing/index.ts'

const TARGET = { provider: 'mock', model: 'm' }
const ANSWER: ResponseView = { content: [{ type: 'text', text: 'the answer' }], finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 2, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 } }

let harness: PluginHarness | undefined
afterEach(() => harness?.close())

async function setUp(options: CacheOptions = {}) {
  harness = await pluginHarness([cache(options)])
  const call = (harness.hooksOf('call') as GatewayHooks['call'][])[0]!
  const request = (init: { question?: string; principal?: string } = {}) => {
    const controller = new AbortController()
    const ctx = harness!.context({
      body: { model: 'mock/m', temperature: 0, messages: [{ role: 'user', content: init.question ?? 'same question' }] },
      plan: [TARGET], signal: controller.signal, principal: init.principal ? { id: init.principal } : undefined,
    })
    return { ctx, controller }
  }
  /** An upstream that answers when the test says so; counts calls. */
  const upstream = () => {
    const pending: Array<{ resolve(r: ProviderResponse): void; reject(e: unknown): void }> = []
    const next: CallNext = (attempt: Attempt) => new Promise<ProviderResponse>((resolve, reject) => pending.push({ resolve, reject })).then((r) => r, (e) => { throw e })
    return { next, pending, answer: (i: number, output: ResponseView = ANSWER) => pending[i]!.resolve({ status: 200, headers: new Headers(), format: 'openai-chat', output: structuredClone(output) }) }
  }
  const attempt = { target: TARGET, number: 1 }
  return { call, request, upstream, attempt }
}

/** Lets every pending promise callback run (the hook's store reads are promises, not timers). */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('single flight, step by step', () => {
  it('followers wait for the leader and are served its answer: one upstream call', async () => {
    const { call, request, upstream, attempt } = await setUp()
    const up = upstream()
    const leader = request()
    const followers = [request(), request(), request()]
    const led = call(leader.ctx, attempt, up.next)
    await settle()
    const followed = followers.map((f) => call(f.ctx, attempt, up.next))
    await settle()
    expect(up.pending).toHaveLength(1)
    up.answer(0)
    const answers = await Promise.all([led, ...followed])
    expect(answers.map((a) => a.output?.content)).toEqual(Array(4).fill(ANSWER.content))
    expect(up.pending).toHaveLength(1)
    expect([leader, ...followers].map((r) => r.ctx.responseHeaders.get('x-sluice-cache'))).toEqual(['miss', 'hit', 'hit', 'hit'])
  })

  it('a leader whose client went away hands the lead to one follower; the others follow it', async () => {
    const { call, request, upstream, attempt } = await setUp()
    const up = upstream()
    const leader = request()
    const led = call(leader.ctx, attempt, up.next)
    await settle()
    const followers = [request(), request()]
    const followed = followers.map((f) => call(f.ctx, attempt, up.next))
    await settle()
    expect(up.pending).toHaveLength(1) // both are waiting for the leader
    leader.controller.abort(new DOMException('client went away', 'AbortError'))
    up.pending[0]!.reject(leader.ctx.signal.reason)
    await expect(led).rejects.toThrow('client went away')
    await settle()
    expect(up.pending).toHaveLength(2) // one follower leads now
    up.answer(1)
    const answers = await Promise.all(followed)
    expect(answers.map((a) => a.output?.content)).toEqual([ANSWER.content, ANSWER.content])
    expect(followers.map((f) => f.ctx.responseHeaders.get('x-sluice-cache')).sort()).toEqual(['hit', 'miss'])
  })

  it("a leader's upstream error is every follower's error", async () => {
    const { call, request, upstream, attempt } = await setUp()
    const up = upstream()
    const led = call(request().ctx, attempt, up.next)
    await settle()
    const followed = call(request().ctx, attempt, up.next)
    await settle()
    const failure = new GatewayError(503, 'upstream overloaded', { upstream: true })
    up.pending[0]!.reject(failure)
    await expect(led).rejects.toBe(failure)
    await expect(followed).rejects.toBe(failure)
    expect(up.pending).toHaveLength(1)
  })

  it('a whole answer too large to keep is shared with the followers in flight, and not stored', async () => {
    const { call, request, upstream, attempt } = await setUp({ maxEntryBytes: 200 })
    const big: ResponseView = { ...ANSWER, content: [{ type: 'text', text: 'x'.repeat(500) }] }
    const up = upstream()
    const led = call(request().ctx, attempt, up.next)
    await settle()
    const follower = request()
    const followed = call(follower.ctx, attempt, up.next)
    await settle()
    up.answer(0, big)
    await led
    expect((await followed).output?.content).toEqual(big.content)
    expect(follower.ctx.responseHeaders.get('x-sluice-cache')).toBe('hit')
    const later = request()
    const third = call(later.ctx, attempt, up.next)
    await settle()
    expect(up.pending).toHaveLength(2) // never stored
    up.answer(1, big)
    await third
    expect(later.ctx.responseHeaders.get('x-sluice-cache')).toBe('miss')
  })

  it('a stream too large to collect is not shared: followers ask the upstream themselves', async () => {
    const { call, request, upstream, attempt } = await setUp({ maxEntryBytes: 200 })
    const up = upstream()
    async function* big(): AsyncGenerator<StreamDelta> {
      yield { type: 'start' }
      for (let i = 0; i < 20; i++) yield { type: 'text', text: 'x'.repeat(50) }
      yield { type: 'finish', reason: 'stop' }
    }
    const led = call(request().ctx, attempt, up.next)
    await settle()
    const followed = call(request().ctx, attempt, up.next)
    await settle()
    up.pending[0]!.resolve({ status: 200, headers: new Headers(), format: 'openai-chat', deltas: big() })
    const response = await led
    for await (const _ of response.deltas!) void _ // the client reads it all
    await settle()
    expect(up.pending).toHaveLength(2)
    up.answer(1)
    expect((await followed).output?.content).toEqual(ANSWER.content)
  })
})

describe('a flight always ends', () => {
  it('a leader whose stream is never read (its response failed first) releases its followers when it settles', async () => {
    const { call, request, upstream, attempt } = await setUp()
    const up = upstream()
    const leader = request()
    expect(await harness!.gate('limit', leader.ctx)).toBeUndefined() // the cache's limit hook: its settle function
    const led = call(leader.ctx, attempt, up.next)
    await settle()
    const follower = request()
    const followed = call(follower.ctx, attempt, up.next)
    await settle()
    async function* never(): AsyncGenerator<StreamDelta> { yield { type: 'start' } }
    up.pending[0]!.resolve({ status: 200, headers: new Headers(), format: 'openai-chat', deltas: never() })
    await led // ...and the stream is left unread
    await settle()
    expect(up.pending).toHaveLength(1)
    await harness!.finish(leader.ctx, { status: 400, outcome: 'invalid_request_error' })
    await settle()
    expect(up.pending).toHaveLength(2) // the follower leads now
    up.answer(1)
    expect((await followed).output?.content).toEqual(ANSWER.content)
  })
})

describe('scope', () => {
  it("global (default): one entry whoever asks; key: each caller's own", async () => {
    for (const [scope, second] of [['global', 'hit'], ['key', 'miss']] as const) {
      const { call, request, upstream, attempt } = await setUp({ scope })
      const up = upstream()
      const first = call(request({ principal: 'alice' }).ctx, attempt, up.next)
      await settle()
      up.answer(0)
      await first
      const bob = request({ principal: 'bob' })
      const pending = call(bob.ctx, attempt, up.next)
      await settle()
      if (second === 'miss') up.answer(1)
      await pending
      expect(bob.ctx.responseHeaders.get('x-sluice-cache')).toBe(second)
      const alice = request({ principal: 'alice' })
      await call(alice.ctx, attempt, up.next)
      expect(alice.ctx.responseHeaders.get('x-sluice-cache')).toBe('hit')
      await harness!.close()
      harness = undefined
    }
  })
})

describe('only a complete stream is kept', () => {
  const start: StreamDelta = { type: 'start' }
  const text: StreamDelta = { type: 'text', text: 'partial answer' }
  const finish: StreamDelta = { type: 'finish', reason: 'stop' }
  const cases: Array<[string, StreamDelta[], 'all' | 'stop-after-finish', boolean]> = [
    ['complete: a finish, read to the end', [start, text, finish], 'all', true],
    ['the upstream ended without a finish', [start, text], 'all', false],
    ['an error delta', [start, text, { type: 'error', status: 500, message: 'broke', errorType: 'api_error' }, finish], 'all', false],
    ['the reader stopped after the finish, before the end (a client that went away)', [start, text, finish], 'stop-after-finish', false],
  ]
  for (const [name, deltas, reading, kept] of cases) {
    it(`${name}: ${kept ? 'kept' : 'not kept'}`, async () => {
      const { call, request, upstream, attempt } = await setUp()
      const up = upstream()
      async function* stream(): AsyncGenerator<StreamDelta> { yield* deltas }
      const first = call(request().ctx, attempt, up.next)
      await settle()
      up.pending[0]!.resolve({ status: 200, headers: new Headers(), format: 'openai-chat', deltas: stream() })
      const iterator = (await first).deltas![Symbol.asyncIterator]()
      for (;;) {
        const step = await iterator.next()
        if (step.done) break
        if (reading === 'stop-after-finish' && step.value.type === 'finish') {
          await iterator.return!()
          break
        }
      }
      const again = request()
      const second = call(again.ctx, attempt, up.next)
      await settle()
      if (!kept) up.answer(1)
      await second
      expect(again.ctx.responseHeaders.get('x-sluice-cache')).toBe(kept ? 'hit' : 'miss')
      expect(up.pending).toHaveLength(kept ? 1 : 2)
    })
  }
})

