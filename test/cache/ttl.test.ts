/**
 * How long an answer is served: the config's `ttl`, a route's own (by the model name asked for), or the
 * request's `x-sluice-cache-ttl` (capped by `maxTtl`, and also the oldest entry that request accepts); `age`
 * says how old a hit is. Time comes from the gateway's injectable clock: nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { router } from '../../plugins/router/index.ts'
import { callsWith, manualClock, startRig, uniquePrompt, type CacheRig } from './helpers.ts'

const clock = manualClock()
let rig: CacheRig
beforeAll(async () => {
  rig = await startRig(
    { ttl: 60, maxTtl: 600, routes: { quick: { ttl: 5 }, never: { ttl: 0 } } },
    { clock, plugins: [router({ models: { quick: ['openai/gpt-4o-mini'], never: ['openai/gpt-4o-mini'], slow: ['openai/gpt-4o-mini'] } })] },
  )
})
afterAll(() => rig?.close())

const user = (content: string) => [{ role: 'user' as const, content }]
const ask = (prompt: string, model = 'openai/gpt-4o-mini', headers: Record<string, string> = {}) =>
  rig.gw.chat({ model, temperature: 0, messages: user(prompt) }, headers)
const cacheOf = (response: Response) => response.headers.get('x-sluice-cache')

describe('TTL', () => {
  it('the config ttl: a hit until it is up, with its age; a miss after', async () => {
    const prompt = uniquePrompt('config ttl')
    expect(cacheOf(await ask(prompt))).toBe('miss')
    clock.advance(59_000)
    const hit = await ask(prompt)
    expect(cacheOf(hit)).toBe('hit')
    expect(hit.headers.get('age')).toBe('59')
    clock.advance(1_000)
    expect(cacheOf(await ask(prompt))).toBe('miss')
    expect(callsWith(rig.openaiMock, prompt)).toBe(2)
  })

  it("a route's own ttl, by the alias asked for; 0 turns the cache off for that route", async () => {
    const prompt = uniquePrompt('route ttl')
    expect(cacheOf(await ask(prompt, 'quick'))).toBe('miss')
    clock.advance(4_000)
    expect(cacheOf(await ask(prompt, 'quick'))).toBe('hit')
    clock.advance(1_000)
    expect(cacheOf(await ask(prompt, 'quick'))).toBe('miss')

    const other = uniquePrompt('route off')
    expect([cacheOf(await ask(other, 'never')), cacheOf(await ask(other, 'never'))]).toEqual(['bypass', 'bypass'])
  })

  it('x-sluice-cache-ttl sets the answer\'s ttl, capped by maxTtl', async () => {
    const prompt = uniquePrompt('request ttl')
    expect(cacheOf(await ask(prompt, 'openai/gpt-4o-mini', { 'x-sluice-cache-ttl': '3600' }))).toBe('miss') // capped to 600
    clock.advance(599_000)
    expect(cacheOf(await ask(prompt))).toBe('hit')
    clock.advance(1_000)
    expect(cacheOf(await ask(prompt))).toBe('miss')
  })

  it('x-sluice-cache-ttl is also the oldest answer the request accepts; 0 bypasses', async () => {
    const prompt = uniquePrompt('fresh enough')
    await ask(prompt)
    clock.advance(30_000)
    expect(cacheOf(await ask(prompt, 'openai/gpt-4o-mini', { 'x-sluice-cache-ttl': '10' }))).toBe('miss') // 30 s old: too old for it
    expect(cacheOf(await ask(prompt, 'openai/gpt-4o-mini', { 'x-sluice-cache-ttl': '10' }))).toBe('hit') // its own fresh answer
    expect(cacheOf(await ask(prompt, 'openai/gpt-4o-mini', { 'x-sluice-cache-ttl': '0' }))).toBe('bypass')
  })

  it('a malformed x-sluice-cache-ttl is a 400 naming the header, in the caller\'s shape', async () => {
    const response = await ask(uniquePrompt('bad ttl'), 'openai/gpt-4o-mini', { 'x-sluice-cache-ttl': 'soon' })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toMatchObject({ type: 'invalid_request_error', param: 'x-sluice-cache-ttl' })
  })
})
