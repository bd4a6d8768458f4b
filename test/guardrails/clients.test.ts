/**
 * guardrails() with the official clients: OpenAI (chat and Responses) and Anthropic, stream and non-stream, onto
 * a provider that speaks the client's format and one that does not. The upstream splits each secret across two
 * stream deltas; every assertion about what leaked is made on the raw bytes the client received.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { createTestGateway, scriptedProvider, type ScriptedReply } from '../../testing/index.ts'
import { guardrails } from '../../plugins/guardrails/index.ts'
import { metrics } from '../../plugins/metrics/index.ts'
import type { ProviderRequest } from '../../core/index.ts'
import { CARD, SK_KEY } from './fixtures.ts'

/** Replies by the last user message: the test names the script it wants. */
const SCRIPTS: Record<string, ScriptedReply> = {
  key: { chunks: [`my key is ${SK_KEY.slice(0, 12)}`, `${SK_KEY.slice(12)} and card ${CARD.slice(0, 7)}`, `${CARD.slice(7)} done`] },
  clean: { chunks: ['All ', 'good ', 'here.'] },
  tools: { reasoning: `The user's key is ${SK_KEY}.`, chunks: ['Sending.'], toolCalls: [{ name: 'send_mail', arguments: { to: 'jane.doe@example.com', body: 'hi' } }] },
}
const SECRET_PIECES = [SK_KEY.slice(0, 12), SK_KEY.slice(12), 'sk-proj', '4111 11', '11 1111 1111']

function lastUserText(request: ProviderRequest): string {
  const message = request.ctx.input().messages.filter((m) => m.role === 'user').at(-1)
  return message?.content.map((part) => (part.type === 'text' ? part.text : '')).join('') ?? ''
}
const script = (_: number, request: ProviderRequest) => SCRIPTS[lastUserText(request)] ?? SCRIPTS.clean!

const providers = {
  mock: scriptedProvider({ name: 'mock', replies: script }), // speaks OpenAI chat
  claude: scriptedProvider({ name: 'claude', format: 'anthropic-messages', replies: script }),
}
const gw = await createTestGateway({
  plugins: [
    providers.mock, providers.claude, metrics(),
    guardrails({
      rules: [{ type: 'secrets', action: 'redact' }, { type: 'pii', kinds: ['card', 'email'], action: 'redact' }],
      routes: { '*/block': [{ type: 'secrets', action: 'block' }, { type: 'pii', kinds: ['card'], action: 'block' }] },
    }),
  ],
})

/** Every response body as the client received it, byte for byte. */
const raw: string[] = []
const tappedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const response = await gw.fetch(input, init)
  const body = await response.text()
  raw.push(body)
  return new Response(body, { status: response.status, headers: response.headers })
}
const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', fetch: tappedFetch, maxRetries: 0 })
const claude = new Anthropic({ baseURL: gw.url, apiKey: 'unused', fetch: tappedFetch, maxRetries: 0 })
afterAll(() => gw.close())
beforeEach(() => void (raw.length = 0))

type Client = 'openai' | 'anthropic' | 'responses'

async function ask(client: Client, stream: boolean, model: string, content: string): Promise<string> {
  const messages = [{ role: 'user' as const, content }]
  if (client === 'openai') {
    if (!stream) return (await openai.chat.completions.create({ model, messages })).choices[0]!.message.content ?? ''
    let text = ''
    for await (const chunk of await openai.chat.completions.create({ model, messages, stream: true })) text += chunk.choices[0]?.delta?.content ?? ''
    return text
  }
  if (client === 'responses') {
    if (!stream) return (await openai.responses.create({ model, input: content, store: false })).output_text
    let text = ''
    for await (const event of await openai.responses.create({ model, input: content, store: false, stream: true })) {
      if (event.type === 'response.output_text.delta') text += event.delta
      if (event.type === 'error' || event.type === 'response.failed') throw new Error(JSON.stringify(event))
    }
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

const received = () => raw.join('\n')

const cases: Array<[Client, boolean, keyof typeof providers]> = []
for (const client of ['openai', 'anthropic', 'responses'] as const) for (const stream of [true, false]) for (const upstream of ['mock', 'claude'] as const) cases.push([client, stream, upstream])

describe.each(cases)('%s client, stream: %s, upstream %s', (client, stream, upstream) => {
  it('redacts a key and a card split across deltas before they leave', async () => {
    const text = await ask(client, stream, `${upstream}/model`, 'key')
    expect(text).toBe('my key is [redacted] and card [redacted] done')
    for (const piece of SECRET_PIECES) expect(received()).not.toContain(piece)
  })

  it('blocks a key split across deltas: the client gets an error naming the rule, and none of the key', async () => {
    const error = await ask(client, stream, `${upstream}/block`, 'key').then(() => undefined, (thrown: Error) => thrown)
    expect(error?.message).toMatch(/blocked by guardrail \\?"secrets\.sk-key\\?"/)
    const bytes = received()
    expect(bytes).toContain('blocked by guardrail')
    for (const piece of SECRET_PIECES) expect(bytes).not.toContain(piece)
    if (client !== 'anthropic') expect(bytes).toContain('guardrail_blocked') // Anthropic's error shape has no code
    if (stream && client === 'openai') expect(bytes).toMatch(/data: \{"error":\{[^\n]*"code":"guardrail_blocked"[^\n]*\n\ndata: \[DONE\]\n\n$/)
    if (stream && client === 'anthropic') expect(bytes).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"invalid_request_error"[^\n]*\n\n$/)
    if (stream && client === 'responses') expect(bytes).toMatch(/"type":"response.failed"/)
    if (!stream) expect(bytes).not.toContain('my key is') // a refused whole answer carries none of the reply
  })

  it('refuses a request carrying a key with 400 in the caller\'s shape, naming the rule, never the key', async () => {
    const calls = providers[upstream].calls.length
    const error = await ask(client, stream, `${upstream}/block`, `use ${SK_KEY} please`).then(() => undefined, (thrown: any) => thrown)
    expect(error?.status).toBe(400)
    expect(error?.message).toMatch(/The request was blocked by guardrail \\?"secrets\.sk-key\\?"/)
    expect(received()).not.toContain(SK_KEY.slice(3))
    expect(providers[upstream].calls.length).toBe(calls)
  })

  it('redacts what the provider would read, in its own format', async () => {
    await ask(client, stream, `${upstream}/model`, `my card is ${CARD}, key ${SK_KEY}`)
    const sent = JSON.stringify(providers[upstream].calls.at(-1)!.body)
    expect(sent).toContain('my card is [redacted], key [redacted]')
    for (const piece of [CARD, SK_KEY]) expect(sent).not.toContain(piece)
  })
})

describe('reasoning and tool calls', () => {
  it.each([['openai', 'mock'], ['anthropic', 'claude'], ['anthropic', 'mock']] as const)('%s client, upstream %s: are checked like the text', async (client, upstream) => {
    const body = { model: `${upstream}/model`, stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'tools' }] }
    const bytes = await (await (client === 'openai' ? gw.chat(body) : gw.messages(body))).text()
    expect(bytes).not.toContain('jane.doe')
    expect(bytes).not.toContain(SK_KEY.slice(3))
    expect(bytes).toContain('send_mail')
    expect(bytes).toMatch(/\[redacted\]/)
    const thinking = [...bytes.matchAll(/"thinking":"([^"]*)"/g)].map((m) => m[1]).join('')
    if (client === 'anthropic') expect(thinking).toBe("The user's key is [redacted].") // reasoning, shown to Anthropic clients
  })
})

describe('every decision is counted and on the record', () => {
  it('in /metrics by rule, phase and action, and as the record\'s guardrail tags', async () => {
    const scrape = async () => (await gw.fetch(`${gw.url}/metrics`)).text()
    const count = (text: string, labels: string) => Number(new RegExp(`sluice_guardrail_decisions_total\\{${labels}\\} (\\d+)`).exec(text)?.[1] ?? 0)
    const blocks = '(?=[^}]*rule="secrets.sk-key")(?=[^}]*phase="output")(?=[^}]*action="block")[^}]*'
    const redacts = '(?=[^}]*rule="pii.card")(?=[^}]*phase="output")(?=[^}]*action="redact")[^}]*'
    const before = await scrape()
    await ask('openai', true, 'mock/block', 'key').catch(() => {})
    await ask('openai', true, 'mock/model', 'key')
    const after = await scrape()
    expect(count(after, blocks) - count(before, blocks)).toBe(1)
    expect(count(after, redacts) - count(before, redacts)).toBe(1)
    expect(after).not.toContain(SK_KEY.slice(3)) // never in a label
    // Records are keyed by the gateway's request id, which the OpenAI client sees as chatcmpl-<id>.
    const ids = raw.slice(0, 2).map((body) => /chatcmpl-(req_[0-9a-f]+)/.exec(body)![1])
    const recordOf = async (id: string) => {
      for (let i = 0; i < 200 && !gw.records.some((r) => r.id === id); i++) await new Promise((resolve) => setTimeout(resolve, 5))
      return gw.records.find((r) => r.id === id)!
    }
    const [blocked, redacted] = [await recordOf(ids[0]!), await recordOf(ids[1]!)]
    expect(blocked!.tags).toEqual({ 'guardrail:secrets.sk-key': 'output:block' })
    expect(blocked!.errorMessage).toBe('The response was blocked by guardrail "secrets.sk-key".')
    expect(redacted!.tags).toEqual({ 'guardrail:secrets.sk-key': 'output:redact', 'guardrail:pii.card': 'output:redact' })
    expect(JSON.stringify([blocked, redacted])).not.toContain(SK_KEY.slice(3))
  })
})
