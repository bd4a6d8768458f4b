/**
 * The core's `Attempt.headers`: a `call` hook adds headers to one upstream attempt; HTTP providers send them,
 * their own auth and route headers winning a clash; without such a hook nothing extra goes upstream.
 */
import { afterEach, expect, it } from 'vitest'
import { definePlugin, type Attempt, type CallNext, type RequestContext } from '../../core/index.ts'
import { anthropic, bedrock, openai } from '../../plugins/providers/index.ts'
import { createTestGateway, type TestGateway } from '../../testing/index.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startMockAnthropic } from '../fixtures/mock-anthropic.ts'
import type { MockUpstream } from '../fixtures/mock-server.ts'
import { startMockBedrock } from '../fixtures/mock-bedrock.ts'

/** Adds the headers listed for the attempt's provider. */
const stamp = definePlugin((byProvider: Record<string, Record<string, string>>) => ({
  name: 'stamp',
  hooks: {
    call: (ctx: RequestContext, attempt: Attempt, next: CallNext) =>
      next({ ...attempt, headers: { ...attempt.headers, ...byProvider[attempt.target.provider], 'x-attempt': String(attempt.number) } }),
  },
}))

let gw: TestGateway | undefined
let mocks: Array<MockOpenAI | MockUpstream> = []
afterEach(async () => {
  await gw?.close()
  await Promise.all(mocks.map((mock) => mock.close()))
  gw = undefined
  mocks = []
})

it('a call hook\'s headers reach the upstream; the provider\'s credentials cannot be replaced', async () => {
  const upstream = await startMockOpenAI()
  const claude = await startMockAnthropic()
  mocks = [upstream, claude]
  gw = await createTestGateway({
    plugins: [
      openai({ apiKey: 'sk-test-upstream-000000000', baseURL: upstream.url }),
      anthropic({ apiKey: 'test-anthropic-key', baseURL: claude.url }),
      stamp({ openai: { 'x-trace-me': 'yes', Authorization: 'Bearer stolen' }, anthropic: { 'x-trace-me': 'yes', 'X-Api-Key': 'stolen' } }),
    ],
  })
  expect((await gw.chat({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
  expect((await gw.chat({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)

  const sent = upstream.requests[0]!.headers
  expect(sent['x-trace-me']).toBe('yes')
  expect(sent['x-attempt']).toBe('1')
  expect(sent.authorization).toBe('Bearer sk-test-upstream-000000000')
  const sentToClaude = claude.requests[0]!.headers
  expect(sentToClaude['x-trace-me']).toBe('yes')
  expect(sentToClaude['x-api-key']).toBe('test-anthropic-key')
})

it('a signing provider (Bedrock) sends them unsigned beside its signature, which they cannot replace', async () => {
  const aws = { accessKeyId: 'AKIAATTEMPTHEADERS01', secretAccessKey: 'attempt/headers/secret/0000000000000000', region: 'us-east-1' }
  const upstream = await startMockBedrock(aws)
  mocks = [upstream]
  gw = await createTestGateway({
    plugins: [
      bedrock({ ...aws, baseURL: upstream.url }),
      stamp({ bedrock: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', Authorization: 'stolen' } }),
    ],
  })
  expect((await gw.chat({ model: 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200)
  expect(upstream.verified).toBe(1)
  const sent = upstream.requests[0]!.headers
  expect(sent.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
  expect(sent.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAATTEMPTHEADERS01\//)
})

it('without such a hook, a client\'s traceparent is not passed upstream by the core', async () => {
  const upstream = await startMockOpenAI()
  mocks = [upstream]
  gw = await createTestGateway({ plugins: [openai({ apiKey: 'sk-test-upstream-000000000', baseURL: upstream.url })] })
  const response = await gw.chat({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })
  expect(response.status).toBe(200)
  expect(upstream.requests[0]!.headers.traceparent).toBeUndefined()
})
