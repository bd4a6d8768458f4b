/**
 * What clients of a real server see from the governor: the x-ratelimit-* trios on admitted responses, 429s that
 * name the limit hit in the shape of the API called (OpenAI on /v1/chat/completions, Anthropic on /v1/messages,
 * read through the official SDKs), and token reservations that are settled with the real usage.
 * Limits (test/configs/governor-headers.config.ts): per model, 3 requests and 2000 tokens per minute.
 */
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'

let gateway: TestGateway
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  gateway = await startGatewayFromFile('governor-headers.config.ts')
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
})
afterAll(() => gateway?.close())

const trio = (headers: Headers, unit: 'requests' | 'tokens') =>
  ['limit', 'remaining', 'reset'].map((part) => headers.get(`x-ratelimit-${part}-${unit}`))

async function refusal<E extends Error>(call: Promise<unknown>): Promise<E> {
  try {
    await call
  } catch (error) {
    return error as E
  }
  throw new Error('expected the request to be refused')
}

describe('governor responses through the real server', () => {
  it('admitted chat responses carry the requests and tokens trios; the 4th request gets an OpenAI-shape 429 naming the limit', async () => {
    // Reserved per request: the core's input estimate, every string of the body, keys included, / 4 —
    // model 5 + echo/headers 12 + max_tokens 10 + messages 8 + role 4 + user 4 + content 7 + hello there 11 =
    // 61 characters, 16 tokens — plus max_tokens 10: 26 tokens, which come back at 30 ms each.
    const ask = () => openai.chat.completions.create({ model: 'echo/headers', max_tokens: 10, messages: [{ role: 'user', content: 'hello there' }] }).withResponse()
    const sentFirst = Date.now() // the in-process server shares this clock
    const first = await ask()
    expect(first.data.choices[0]!.message.content).toBe('hello there')
    expect(trio(first.response.headers, 'requests')).toEqual(['3', '2', '20s'])
    expect(trio(first.response.headers, 'tokens')).toEqual(['2000', '1974', '780ms'])
    expect(trio((await ask()).response.headers, 'requests').slice(0, 2)).toEqual(['3', '1'])
    expect(trio((await ask()).response.headers, 'requests').slice(0, 2)).toEqual(['3', '0'])

    const error = await refusal<InstanceType<typeof OpenAI.RateLimitError>>(ask())
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error.status).toBe(429)
    expect(error.error).toEqual({
      message: 'rate limit exceeded: 3 requests per minute for model echo/headers',
      type: 'rate_limit_error',
      param: null,
      code: 'rate_limit_exceeded',
    })
    // The 4th slot opens 20 s after the first admission, which came after `sentFirst`.
    const ms = Number(error.headers!.get('retry-after-ms'))
    expect(ms).toBeGreaterThanOrEqual(20_000 - (Date.now() - sentFirst) - 1)
    expect(ms).toBeLessThanOrEqual(20_000)
    expect(error.headers!.get('retry-after')).toBe(String(Math.ceil(ms / 1000)))
    const [limit, remaining, reset] = trio(error.headers!, 'requests')
    expect([limit, remaining]).toEqual(['3', '0'])
    expect(reset).toMatch(/^\d+(\.\d+)?s$/)
    expect(trio(error.headers!, 'tokens')[0]).toBe('2000')
  })

  it('on /v1/messages the headers are there and the 429 is in the Anthropic shape, naming the limit', async () => {
    const ask = () => anthropic.messages.create({ model: 'echo/anthropic', max_tokens: 10, messages: [{ role: 'user', content: 'hello there' }] }).withResponse()
    const first = await ask()
    expect(first.data.content).toEqual([{ type: 'text', text: 'hello there' }])
    expect(trio(first.response.headers, 'requests')).toEqual(['3', '2', '20s'])
    expect(trio(first.response.headers, 'tokens')[0]).toBe('2000')
    await ask()
    await ask()

    const error = await refusal<InstanceType<typeof Anthropic.RateLimitError>>(ask())
    expect(error).toBeInstanceOf(Anthropic.RateLimitError)
    expect(error.error).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'rate limit exceeded: 3 requests per minute for model echo/anthropic' },
    })
    expect(Number(error.headers!.get('retry-after-ms'))).toBeGreaterThan(0)
    expect(error.headers!.get('retry-after')).toMatch(/^\d+$/)
    expect(trio(error.headers!, 'requests').slice(0, 2)).toEqual(['3', '0'])
  })

  it('a request in flight holds its token reservation; the refusal names the token limit; the settle returns the unused tokens', async () => {
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ')
    // Reserves its input estimate plus 1500 output tokens, held while the stream runs (~600 ms). The estimate:
    // model 5 + echo/tokens 11 + max_tokens 10 + stream 6 + messages 8 + role 4 + user 4 + content 7 + the 109
    // characters of the words = 164 characters, 41 tokens.
    const held = await openai.chat.completions.create({ model: 'echo/tokens', max_tokens: 1500, stream: true, messages: [{ role: 'user', content: words }] }).withResponse()
    const reserved = 41 + 1500
    expect(trio(held.response.headers, 'tokens').slice(0, 2)).toEqual(['2000', String(2000 - reserved)])

    const ask = () => openai.chat.completions.create({ model: 'echo/tokens', max_tokens: 1500, messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    const error = await refusal<InstanceType<typeof OpenAI.RateLimitError>>(ask())
    expect(error.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'rate limit exceeded: 2000 tokens per minute for model echo/tokens' })
    const [limit, remaining] = trio(error.headers!, 'tokens')
    expect(limit).toBe('2000')
    // What was left after the held request, plus a token per 30 ms since; fewer than this request's 1513
    // (model 5 + echo/tokens 11 + max_tokens 10 + messages 8 + role 4 + user 4 + content 7 + hi 2 = 51
    // characters, 13 tokens, plus 1500).
    expect(Number(remaining)).toBeGreaterThanOrEqual(2000 - reserved)
    expect(Number(remaining)).toBeLessThan(1513)
    // The requests bucket was not charged for the refusal: one admitted so far.
    expect(trio(error.headers!, 'requests').slice(0, 2)).toEqual(['3', '2'])

    let text = ''
    for await (const chunk of held.data) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe(words)
    // Once the stream has ended, its settle function (30 + 30 echo tokens really used) gives the rest back.
    await eventually(async () => expect((await ask()).response.status).toBe(200))
  })

  it('a request whose tokens can never fit is refused as too large, not told to retry', async () => {
    const error = await refusal<InstanceType<typeof OpenAI.RateLimitError>>(
      openai.chat.completions.create({ model: 'echo/too-large', max_tokens: 5000, messages: [{ role: 'user', content: 'hi' }] }),
    )
    expect(error.status).toBe(429)
    expect(error.error).toMatchObject({ type: 'rate_limit_error', code: 'request_too_large' })
    expect((error.error as { message: string }).message).toContain('exceed the limit of 2000 tokens per minute for model echo/too-large')
    expect(error.headers!.get('retry-after')).toBeNull()
  })
})
