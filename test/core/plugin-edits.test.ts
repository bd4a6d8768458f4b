/**
 * A plugin's change always reaches the client: a header set from the stream hook, a body a `call` hook edited,
 * an event a transform copied with new data, a delta edited on the neutral view. Each through the official
 * `openai` and `@anthropic-ai/sdk` clients, stream and non-stream, same format and translated
 * (plugins: test/configs/plugin-edits.config.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'

const SENTENCE = 'the password is swordfish and hunter2 so shout it'

let openaiUpstream: MockOpenAI
let anthropicUpstream: MockUpstream
let gateway: TestGateway
let openai: OpenAI
let claude: Anthropic

beforeAll(async () => {
  openaiUpstream = await startMockOpenAI()
  anthropicUpstream = await startMockAnthropic({ text: SENTENCE })
  gateway = await startGatewayFromFile('plugin-edits.config.ts', { MOCK_OPENAI_URL: openaiUpstream.url, MOCK_ANTHROPIC_URL: anthropicUpstream.url })
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  claude = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
})

afterAll(async () => {
  await gateway?.close()
  await Promise.all([openaiUpstream?.close(), anthropicUpstream?.close()])
})

type Client = 'openai' | 'anthropic'
const TARGETS = { openai: 'openai/gpt-4o', anthropic: 'anthropic/claude-sonnet-4-5' } as const

/** One request through the gateway with one plugin on; the reply text and the response headers. */
async function ask(client: Client, target: keyof typeof TARGETS, plugin: string, stream: boolean): Promise<{ text: string; headers: Headers }> {
  const headers = { 'x-test-plugin': plugin }
  const model = TARGETS[target]
  if (client === 'openai') {
    const messages = [{ role: 'user' as const, content: SENTENCE }]
    if (!stream) {
      const { data, response } = await openai.chat.completions.create({ model, messages }, { headers }).withResponse()
      return { text: data.choices[0]!.message.content ?? '', headers: response.headers }
    }
    const { data, response } = await openai.chat.completions.create({ model, messages, stream: true }, { headers }).withResponse()
    let text = ''
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? ''
    return { text, headers: response.headers }
  }
  const params = { model, max_tokens: 256, messages: [{ role: 'user' as const, content: SENTENCE }] }
  if (!stream) {
    const { data, response } = await claude.messages.create(params, { headers }).withResponse()
    return { text: data.content.map((block) => (block.type === 'text' ? block.text : '')).join(''), headers: response.headers }
  }
  const { data, response } = await claude.messages.create({ ...params, stream: true }, { headers }).withResponse()
  let text = ''
  for await (const event of data) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text
  return { text, headers: response.headers }
}

const ROUTES: Array<[Client, keyof typeof TARGETS, string]> = [
  ['openai', 'openai', 'same format'],
  ['openai', 'anthropic', 'translated'],
  ['anthropic', 'anthropic', 'same format'],
  ['anthropic', 'openai', 'translated'],
]

describe.each(ROUTES)('%s client → %s target (%s)', (client, target) => {
  it('a header set in the stream hook reaches the client, stream and non-stream', async () => {
    expect((await ask(client, target, 'stamp', true)).headers.get('x-stamp')).toBe('streamed')
    expect((await ask(client, target, 'stamp', false)).headers.get('x-stamp')).toBe('whole')
  })

  it('a body a call hook edited in place is the one written', async () => {
    const { text } = await ask(client, target, 'body-redactor', false)
    expect(text).toContain('[gone]')
    expect(text).not.toContain('hunter2')
  })

  it('an event a transform returned as a copy with new data is the one written', async () => {
    const { text } = await ask(client, target, 'shouter', true)
    expect(text).toContain(SENTENCE.toUpperCase())
  })

  it('a delta edited on the neutral view is re-encoded in the client\'s format, stream and non-stream', async () => {
    for (const stream of [true, false]) {
      const { text } = await ask(client, target, 'delta-redactor', stream)
      expect(text).toContain('[redacted]')
      expect(text).not.toContain('swordfish')
    }
  })

  it('with no plugin on, the reply is the upstream\'s own', async () => {
    const { text } = await ask(client, target, 'none', true)
    expect(text).toContain('swordfish')
  })
})
