/**
 * Two gateway PROCESSES sharing one Redis as their storage continue each other's conversations: a response made
 * on one replica is read, listed, continued and deleted on the other, at once (the client does not wait between
 * turns), and each entry carries Redis's own TTL.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startGatewayProcess, type GatewayProcess } from '../governor/gateway-process.ts'
import { sdkError, upstreamTexts } from './helpers.ts'

const url = process.env.REDIS_URL
if (!url) console.warn('[responses] REDIS_URL is not set: skipping the two-process conversation tests on Redis')

describe.skipIf(!url)('responses() on two gateway processes sharing Redis', () => {
  const prefix = `sluice-test:responses:${randomUUID()}`
  let openaiMock: MockOpenAI
  let anthropicMock: MockUpstream
  let replicas: GatewayProcess[] = []
  let a: OpenAI
  let b: OpenAI

  beforeAll(async () => {
    openaiMock = await startMockOpenAI()
    anthropicMock = await startMockAnthropic({ text: 'Claude here.' })
    const env = {
      RESPONSES_MOCK_OPENAI_URL: openaiMock.url,
      RESPONSES_MOCK_ANTHROPIC_URL: anthropicMock.url,
      RESPONSES_REDIS_URL: url!,
      RESPONSES_REDIS_PREFIX: prefix,
    }
    replicas = await Promise.all([0, 1].map(() => startGatewayProcess('test/configs/responses-upstreams.config.ts', env)))
    const client = (replica: GatewayProcess) => new OpenAI({ baseURL: `${replica.url}/v1`, apiKey: 'unused', maxRetries: 0 })
    a = client(replicas[0]!)
    b = client(replicas[1]!)
  }, 60_000)

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()))
    await openaiMock?.close()
    await anthropicMock?.close()
    const redis = new Redis(url!)
    const keys = await redis.keys(`${prefix}:*`)
    if (keys.length) await redis.del(...keys)
    await redis.quit()
  })

  it('each replica continues, reads and deletes the other one\'s responses', async () => {
    const first = await a.responses.create({ model: 'oai/gpt-test', input: 'Hello from A.' })
    // Straight to the other replica: no pause for the first one's write.
    const second = await b.responses.create({ model: 'anthropic/claude-test', previous_response_id: first.id, input: 'Hello from B.' })
    expect(upstreamTexts(anthropicMock.requests.at(-1)!.body)).toEqual(['user: Hello from A.', 'assistant: echo: Hello from A.', 'user: Hello from B.'])

    const streamed = await a.responses.stream({ model: 'oai/gpt-test', previous_response_id: second.id, input: 'Back on A.' }).finalResponse()
    const input = JSON.stringify(openaiMock.requests.at(-1)!.body.input)
    for (const text of ['Hello from A.', 'echo: Hello from A.', 'Hello from B.', 'Claude here.', 'Back on A.']) expect(input).toContain(text)

    expect((await b.responses.retrieve(streamed.id)).previous_response_id).toBe(second.id)
    const items = await a.responses.inputItems.list(second.id, { order: 'asc' })
    expect(items.data).toHaveLength(3)

    const redis = new Redis(url!)
    try {
      const ttl = await redis.ttl(`${prefix}:plugins:responses:response:${first.id}`)
      expect(ttl).toBeGreaterThan(29 * 86_400)
      expect(ttl).toBeLessThanOrEqual(30 * 86_400)
    } finally {
      await redis.quit()
    }

    await b.responses.delete(first.id)
    expect((await sdkError(a.responses.retrieve(first.id))).status).toBe(404)
    expect((await sdkError(a.responses.create({ model: 'oai/gpt-test', previous_response_id: first.id, input: 'x' }))).status).toBe(404)
  })
})
