/**
 * A `call` hook may answer in the neutral view, whole (`output`) or as deltas, whatever the client asked: the
 * gateway streams a whole answer to a streaming client and collects deltas for a client that asked for one
 * answer, in the client's own format. (What a response cache needs.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { definePlugin, type ResponseView, type StreamDelta } from '../../core/index.ts'
import { createTestGateway, scriptedProvider, type TestGateway } from '../../testing/index.ts'

const CACHED: ResponseView = {
  content: [{ type: 'text', text: 'from the cache' }, { type: 'tool_call', id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }],
  finishReason: 'tool_calls',
  usage: { inputTokens: 3, outputTokens: 4, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
}

async function* asDeltas(): AsyncGenerator<StreamDelta> {
  yield { type: 'start' }
  yield { type: 'text', text: 'from ' }
  yield { type: 'text', text: 'the stream' }
  yield { type: 'finish', reason: 'stop' }
}

// Answers without calling the provider: whole when the request says `x-answer: whole`, else as deltas.
const answering = definePlugin(() => ({
  name: 'answering',
  hooks: {
    async call(ctx, attempt, next) {
      const kind = ctx.request.headers.get('x-answer')
      if (kind === 'whole') return { status: 200, headers: new Headers(), format: 'openai-chat', output: structuredClone(CACHED) }
      if (kind === 'deltas') return { status: 200, headers: new Headers(), format: 'openai-chat', deltas: asDeltas() }
      return next(attempt)
    },
  },
}))

let gw: TestGateway
let openai: OpenAI
let claude: Anthropic

beforeAll(async () => {
  gw = await createTestGateway({ plugins: [scriptedProvider({ name: 'mock' }), answering()] })
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'test', fetch: gw.fetch, maxRetries: 0 })
  claude = new Anthropic({ baseURL: gw.url, apiKey: 'test', fetch: gw.fetch, maxRetries: 0 })
})
afterAll(() => gw?.close())

const messages = [{ role: 'user' as const, content: 'hi' }]

describe('answers in the neutral view', () => {
  it('a whole answer serves a streaming OpenAI client, tool call included', async () => {
    const stream = openai.chat.completions.stream({ model: 'mock/model', messages }, { headers: { 'x-answer': 'whole' } })
    const done = await stream.finalChatCompletion()
    expect(done.choices[0]!.message.content).toBe('from the cache')
    expect(done.choices[0]!.message.tool_calls![0]).toMatchObject({ function: { name: 'lookup', arguments: '{"q":"x"}' } })
  })

  it('a whole answer serves a streaming Anthropic client', async () => {
    const message = await claude.messages.stream({ model: 'mock/model', max_tokens: 100, messages }, { headers: { 'x-answer': 'whole' } }).finalMessage()
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'from the cache' })
    expect(message.content[1]).toMatchObject({ type: 'tool_use', name: 'lookup', input: { q: 'x' } })
    expect(message.stop_reason).toBe('tool_use')
  })

  it('deltas are collected into one answer for a non-stream client of either format', async () => {
    const completion = await openai.chat.completions.create({ model: 'mock/model', messages }, { headers: { 'x-answer': 'deltas' } })
    expect(completion.choices[0]!.message.content).toBe('from the stream')
    const message = await claude.messages.create({ model: 'mock/model', max_tokens: 100, messages }, { headers: { 'x-answer': 'deltas' } })
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'from the stream' })
  })
})
