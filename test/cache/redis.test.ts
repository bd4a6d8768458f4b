/**
 * The Redis store: two gateway PROCESSES sharing one Redis share their entries — what one stored, the other
 * serves, streamed or not, and the upstream saw one call. A Redis that cannot be reached costs hits, never a
 * request.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openai } from '../../plugins/providers/index.ts'
import { cache } from '../../plugins/cache/index.ts'
import { createTestGateway } from '../../testing/index.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startGatewayProcess, type GatewayProcess } from '../governor/gateway-process.ts'
import { callsWith, openaiCounts, uniquePrompt } from './helpers.ts'

const url = process.env.REDIS_URL
if (!url) console.warn('[cache] REDIS_URL is not set: skipping the Redis-backed cache across two gateway processes')

const user = (content: string) => [{ role: 'user' as const, content }]

describe.skipIf(!url)('a Redis-backed cache shared by two gateway processes', () => {
  const prefix = `sluice-test:cache:${randomUUID()}`
  let mock: MockOpenAI
  let replicas: GatewayProcess[] = []
  let clients: OpenAI[] = []

  beforeAll(async () => {
    mock = await startMockOpenAI()
    const env = { MOCK_OPENAI_URL: mock.url, SLUICE_CACHE_REDIS_URL: url!, SLUICE_CACHE_PREFIX: prefix }
    replicas = await Promise.all([startGatewayProcess('test/configs/cache-replicas.config.ts', env), startGatewayProcess('test/configs/cache-replicas.config.ts', env)])
    clients = replicas.map((replica) => new OpenAI({ baseURL: `${replica.url}/v1`, apiKey: 'unused', maxRetries: 0 }))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()))
    await mock?.close()
    const redis = new Redis(url!)
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    await redis.quit()
  })

  it('what one process stored, the other serves: the upstream saw one call', async () => {
    const prompt = uniquePrompt('across replicas')
    const [a, b] = clients as [OpenAI, OpenAI]
    const first = await a.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }).withResponse()
    const second = await b.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }).withResponse()
    expect(first.response.headers.get('x-sluice-cache')).toBe('miss')
    expect(second.response.headers.get('x-sluice-cache')).toBe('hit')
    expect(second.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content)
    expect(openaiCounts(second.data.usage)).toEqual(openaiCounts(first.data.usage))
    expect(callsWith(mock, prompt)).toBe(1)
    // Entries live in Redis under the fleet's prefix, with Redis's own expiry.
    const redis = new Redis(url!)
    const keys = await redis.keys(`${prefix}:*`)
    expect(keys.length).toBeGreaterThan(0)
    const ttl = await redis.ttl(keys[0]!)
    await redis.quit()
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(300)
  })

  it('a stream stored by one process is replayed as a stream by the other', async () => {
    const prompt = uniquePrompt('streamed across replicas')
    const [a, b] = clients as [OpenAI, OpenAI]
    const read = async (client: OpenAI) => {
      const { data, response } = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, stream_options: { include_usage: true }, messages: user(prompt) }).withResponse()
      let text = ''
      let usage: unknown
      for await (const chunk of data) {
        text += chunk.choices[0]?.delta?.content ?? ''
        if (chunk.usage) usage = chunk.usage
      }
      return { text, usage, cache: response.headers.get('x-sluice-cache') }
    }
    const first = await read(b)
    const second = await read(a)
    expect([first.cache, second.cache]).toEqual(['miss', 'hit'])
    expect(second.text).toBe(first.text)
    expect(openaiCounts(second.usage)).toEqual(openaiCounts(first.usage))
    expect(callsWith(mock, prompt)).toBe(1)
  })
})

describe('a Redis that cannot be reached', () => {
  it('costs hits, never a request: every request is answered by the upstream', async () => {
    const mock = await startMockOpenAI()
    // Port 1 on loopback: nothing listens, connections are refused at once.
    const gw = await createTestGateway({ plugins: [openai({ apiKey: 'sk-test-upstream-cache-000000', baseURL: mock.url }), cache({ store: { redis: 'redis://127.0.0.1:1' } })] })
    try {
      const prompt = uniquePrompt('no redis')
      for (let i = 0; i < 3; i++) {
        const response = await gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) })
        expect(response.status).toBe(200)
        expect(response.headers.get('x-sluice-cache')).toBe('miss')
      }
      expect(callsWith(mock, prompt)).toBe(3)
    } finally {
      await gw.close()
      await mock.close()
    }
  })
})
