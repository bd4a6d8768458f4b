/**
 * The Vertex access token's lifecycle, with only the clock (Date) faked: fetched once for many requests, concurrent
 * ones included; refreshed by google-auth-library before it expires (the mock would still accept the old token,
 * so the refresh is early, not a retry after a refusal); then reused again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import OpenAI from 'openai'
import { startCloudRig, type CloudRig } from './setup.ts'

const GEMINI = 'vertex/gemini-2.5-flash'
const MINUTE = 60_000

let rig: CloudRig
let openai: OpenAI

beforeAll(async () => {
  rig = await startCloudRig()
  openai = new OpenAI({ baseURL: `${rig.gateway.url}/v1`, apiKey: 'x', maxRetries: 0 })
})
afterEach(() => {
  vi.useRealTimers()
})
afterAll(async () => {
  await rig?.close()
})

const ask = () => openai.chat.completions.create({ model: GEMINI, messages: [{ role: 'user', content: 'Hello' }] })
const lastToken = () => String(rig.vertex.requests.at(-1)!.headers.authorization).replace(/^Bearer /, '')

describe('the Vertex access token', () => {
  it('is fetched once for concurrent and later requests, refreshed before expiry, and reused after', async () => {
    const start = Date.now()
    vi.useFakeTimers({ toFake: ['Date'], now: start })

    const replies = await Promise.all(Array.from({ length: 6 }, ask))
    expect(replies.every((r) => r.choices[0]!.message.content === 'Hello from the mock Gemini upstream.')).toBe(true)
    for (let i = 0; i < 3; i++) await ask()
    expect(rig.token.issued).toHaveLength(1)
    const first = rig.token.issued[0]!
    expect(first.expiresAt - start).toBeGreaterThanOrEqual(60 * MINUTE)
    expect(first.expiresAt - start).toBeLessThan(61 * MINUTE)

    // 50 minutes on: the token has 10 minutes left, more than the library's 5-minute margin: still reused.
    vi.setSystemTime(start + 50 * MINUTE)
    await ask()
    expect(rig.token.issued).toHaveLength(1)

    // 56 minutes on: within the margin. A new token is fetched although the old one is still valid.
    vi.setSystemTime(start + 56 * MINUTE)
    expect(rig.token.valid(first.token)).toBe(true)
    await Promise.all([ask(), ask(), ask()])
    expect(rig.token.issued).toHaveLength(2)
    expect(lastToken()).toBe(rig.token.issued[1]!.token)

    // Past the first token's expiry: the second one goes on serving.
    vi.setSystemTime(start + 70 * MINUTE)
    await ask()
    expect(rig.token.issued).toHaveLength(2)
    expect(lastToken()).toBe(rig.token.issued[1]!.token)
    expect(rig.token.requests).toHaveLength(2)
  })
})
