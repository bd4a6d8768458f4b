/**
 * The neutral view over the new codec: guardrails() redacts an e-mail address that the Bedrock event stream splits
 * across deltas, before it reaches an OpenAI or an Anthropic client, streamed and not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { bedrock } from '../../plugins/providers/index.ts'
import { guardrails } from '../../plugins/index.ts'
import { createTestGateway, type TestGateway } from '../../testing/index.ts'
import { startMockBedrock, type MockBedrock } from '../fixtures/mock-bedrock.ts'
import { AWS } from './setup.ts'

const MODEL = 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const EMAIL = 'jane.doe@example.com'

let mock: MockBedrock
let gw: TestGateway
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  mock = await startMockBedrock({ ...AWS, text: `Write to ${EMAIL} before noon.` })
  gw = await createTestGateway({ plugins: [
    bedrock({ baseURL: mock.url, region: AWS.region, accessKeyId: AWS.accessKeyId, secretAccessKey: AWS.secretAccessKey, sessionToken: AWS.sessionToken }),
    guardrails({ rules: [{ type: 'pii', kinds: ['email'], action: 'redact' }] }),
  ] })
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', fetch: gw.fetch, maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'x', fetch: gw.fetch, maxRetries: 0 })
})
afterAll(async () => {
  await gw?.close()
  await mock?.close()
})

describe('guardrails over Bedrock', () => {
  it('openai client, streamed: the address split across event-stream deltas never leaves the gateway', async () => {
    const stream = await openai.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Hello' }] })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).not.toContain(EMAIL)
    expect(text).toMatch(/^Write to .+ before noon\.$/)
  })

  it('anthropic client, streamed and not', async () => {
    const streamed = await anthropic.messages.stream({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage()
    const whole = await anthropic.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] })
    for (const message of [streamed, whole]) {
      const text = (message.content[0] as Anthropic.TextBlock).text
      expect(text).not.toContain(EMAIL)
      expect(text).toMatch(/^Write to .+ before noon\.$/)
    }
  })
})
