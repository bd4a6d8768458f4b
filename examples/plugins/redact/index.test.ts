import { afterAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { createTestGateway, scriptedProvider } from 'sluice/testing'
import { redact } from './index.ts'

// The providers stream the key split across two deltas; one takes OpenAI request bodies, the other Anthropic's.
const reply = { chunks: ['my key is sk-ab', 'cdefghijklmnop ok'] }
const providers = [scriptedProvider({ name: 'mock', replies: [reply] }), scriptedProvider({ name: 'claude', format: 'anthropic-messages', replies: [reply] })]
const gw = await createTestGateway({ plugins: [...providers, redact({ words: ['Bluebird'], input: true })] })
const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', fetch: gw.fetch, maxRetries: 0 })
const claude = new Anthropic({ baseURL: gw.url, apiKey: 'unused', fetch: gw.fetch, maxRetries: 0 })
afterAll(() => gw.close())

it('redacts a key split across stream deltas, for OpenAI and Anthropic clients alike', async () => {
  const messages = [{ role: 'user' as const, content: 'what is my key?' }]

  let openaiText = ''
  const chunks = await openai.chat.completions.create({ model: 'mock/model', stream: true, messages })
  for await (const chunk of chunks) openaiText += chunk.choices[0]?.delta?.content ?? ''

  let anthropicText = ''
  const events = await claude.messages.create({ model: 'mock/model', max_tokens: 64, stream: true, messages })
  for await (const event of events) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') anthropicText += event.delta.text

  expect(openaiText).toBe('my key is [redacted] ok')
  expect(anthropicText).toBe('my key is [redacted] ok')
})

type Client = 'openai' | 'anthropic'

async function ask(client: Client, stream: boolean, content: string, model = 'mock/model'): Promise<string> {
  const messages = [{ role: 'user' as const, content }]
  if (client === 'openai') {
    if (!stream) return (await openai.chat.completions.create({ model, messages })).choices[0]!.message.content ?? ''
    let text = ''
    for await (const chunk of await openai.chat.completions.create({ model, messages, stream: true })) text += chunk.choices[0]?.delta?.content ?? ''
    return text
  }
  const params = { model, max_tokens: 64, messages }
  if (!stream) return (await claude.messages.create(params)).content.map((block) => (block.type === 'text' ? block.text : '')).join('')
  let text = ''
  for await (const event of await claude.messages.create({ ...params, stream: true })) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text
  }
  return text
}

describe.each<[Client, boolean]>([['openai', true], ['openai', false], ['anthropic', true], ['anthropic', false]])('%s client, stream: %s', (client, stream) => {
  it('nothing of the secret reaches the client', async () => {
    const text = await ask(client, stream, 'hello')
    expect(text).toBe('my key is [redacted] ok')
    for (const piece of ['sk-ab', 'cdefghijklmnop']) expect(text).not.toContain(piece)
  })

  it('neither provider sees the secrets of the request', async () => {
    for (const provider of providers) {
      await ask(client, stream, 'Project bluebird: mail jane.doe@example.com with sk-proj-0123456789abcdefXYZ', `${provider.name}/model`)
      const sent = JSON.stringify(provider.calls.at(-1)!.body)
      expect(sent).toContain('Project [redacted]: mail [redacted] with [redacted]')
      for (const secret of ['bluebird', 'jane.doe', 'example.com', 'sk-proj']) expect(sent).not.toContain(secret)
    }
  })
})

it('holds back only what a match could still need', async () => {
  const gw = await createTestGateway({
    plugins: [scriptedProvider({ name: 'mock', replies: [{ chunks: ['Hello the', 're, Project Blue', 'bird ships ', 'today.'] }] }), redact({ words: ['Project Bluebird'] })],
  })
  const text = await (await gw.chat({ model: 'mock/model', stream: true, messages: [{ role: 'user', content: 'hi' }] })).text()
  const deltas = [...text.matchAll(/"content":"([^"]*)"/g)].map((match) => match[1])
  // Each delta's last word waits (it could begin a key or an address); "Project Blue" waits for the phrase's end.
  expect(deltas.filter(Boolean)).toEqual(['Hello ', 'there, ', '[redacted] ships ', 'today.'])
  await gw.close()
})
