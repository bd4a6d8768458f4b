/**
 * What the cache never keeps, and how a client opts out: `no-store` bypasses, `no-cache` refreshes; errors,
 * streams that die midway or end in an error, streams the client abandoned, non-deterministic requests
 * (`temperature > 0`, `n > 1`) and answers a stored view cannot hold (logprobs) all reach the upstream again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsWith, recordOf, startRig, uniquePrompt, type CacheRig } from './helpers.ts'

let rig: CacheRig
beforeAll(async () => { rig = await startRig() })
afterAll(() => rig?.close())

const user = (content: string) => [{ role: 'user' as const, content }]
const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, ...body }, headers)
const cacheOf = (response: Response) => response.headers.get('x-sluice-cache')

describe('the client opts out', () => {
  it('cache-control: no-store bypasses: not read, not stored', async () => {
    const prompt = uniquePrompt('no-store')
    const a = await chat({ messages: user(prompt) }, { 'cache-control': 'no-store' })
    const b = await chat({ messages: user(prompt) }, { 'cache-control': 'no-store' })
    expect([cacheOf(a), cacheOf(b)]).toEqual(['bypass', 'bypass'])
    expect(cacheOf(await chat({ messages: user(prompt) }))).toBe('miss') // nothing was stored
    expect(cacheOf(await chat({ messages: user(prompt) }, { 'cache-control': 'no-store' }))).toBe('bypass') // nor read
    expect(callsWith(rig.openaiMock, prompt)).toBe(4)
  })

  it('cache-control: no-cache refreshes: the upstream is asked again and the fresh answer is stored', async () => {
    const prompt = uniquePrompt('no-cache')
    expect(cacheOf(await chat({ messages: user(prompt) }))).toBe('miss')
    expect(cacheOf(await chat({ messages: user(prompt) }, { 'cache-control': 'max-age=0, no-cache' }))).toBe('miss')
    const after = await chat({ messages: user(prompt) })
    expect(cacheOf(after)).toBe('hit')
    expect(callsWith(rig.openaiMock, prompt)).toBe(2)
  })
})

describe('never stored', () => {
  it('an upstream error', async () => {
    const prompt = uniquePrompt('fails [error 500]')
    const a = await chat({ messages: user(prompt) })
    const b = await chat({ messages: user(prompt) })
    expect([a.status, b.status]).toEqual([500, 500])
    expect(cacheOf(b)).toBe('miss')
    expect(callsWith(rig.openaiMock, prompt)).toBe(2)
  })

  it('a stream whose upstream connection dies midway', async () => {
    const prompt = uniquePrompt('dies [die]')
    for (let i = 0; i < 2; i++) {
      const response = await chat({ stream: true, messages: user(prompt) })
      expect(await response.text()).toMatch(/"error"/)
      expect(cacheOf(response)).toBe('miss')
    }
    expect(callsWith(rig.openaiMock, prompt)).toBe(2)
  })

  it('an Anthropic stream that ends with an error event', async () => {
    const prompt = uniquePrompt('MOCK_STREAM_ERROR')
    for (let i = 0; i < 2; i++) {
      const response = await rig.gw.messages({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, temperature: 0, stream: true, messages: user(prompt) })
      expect(await response.text()).toMatch(/event: error/)
    }
    expect(callsWith(rig.anthropicMock, prompt)).toBe(2)
  })

  it('a stream the client abandoned midway', async () => {
    const prompt = uniquePrompt('abandoned [slow 6]')
    const response = await chat({ stream: true, messages: user(prompt) })
    const reader = response.body!.getReader()
    await reader.read()
    await reader.cancel()
    expect(await recordOf(rig.gw, response)).toMatchObject({ status: 499, outcome: 'client_abort' })
    const again = await chat({ stream: true, messages: user(prompt) })
    expect(cacheOf(again)).toBe('miss')
    expect(await again.text()).toContain('w5')
    expect(callsWith(rig.openaiMock, prompt)).toBe(2)
    expect(cacheOf(await chat({ stream: true, messages: user(prompt) }))).toBe('hit') // the complete one was kept
  })

  it('a request that names a temperature above 0 (bypassed), unless cacheNonDeterministic', async () => {
    const prompt = uniquePrompt('creative')
    const a = await chat({ temperature: 0.7, messages: user(prompt) })
    const b = await chat({ temperature: 0.7, messages: user(prompt) })
    expect([cacheOf(a), cacheOf(b)]).toEqual(['bypass', 'bypass'])
    expect(callsWith(rig.openaiMock, prompt)).toBe(2)

    const loose = await startRig({ cacheNonDeterministic: true })
    try {
      const again = () => loose.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0.7, messages: user(prompt) })
      expect([cacheOf(await again()), cacheOf(await again())]).toEqual(['miss', 'hit'])
    } finally {
      await loose.close()
    }
  })

  it('n > 1, and logprobs the stored answer could not give back', async () => {
    const prompt = uniquePrompt('several')
    expect(cacheOf(await chat({ n: 2, messages: user(prompt) }))).toBe('bypass')
    expect(cacheOf(await chat({ logprobs: true, messages: user(prompt) }))).toBe('bypass')
    expect(cacheOf(await chat({ messages: user(prompt) }))).toBe('miss') // neither was stored
  })

  it('embeddings (no neutral view) pass through untouched', async () => {
    const response = await rig.gw.fetch(`${rig.gw.url}/v1/embeddings`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/text-embedding-3-small', input: 'hello' }),
    })
    expect(response.status).toBe(200)
    expect(cacheOf(response)).toBe('bypass')
  })
})

describe('records of what was not served from the cache', () => {
  it('a miss and a bypass are not cached and keep their cost', async () => {
    const prompt = uniquePrompt('priced')
    const miss = await chat({ messages: user(prompt) })
    const bypass = await chat({ messages: user(prompt) }, { 'cache-control': 'no-store' })
    for (const response of [miss, bypass]) {
      const record = await recordOf(rig.gw, response)
      expect(record.cached).toBeUndefined()
      expect(record.savedUSD).toBeUndefined()
      expect(record.costUSD).toBeGreaterThan(0)
    }
  })
})
