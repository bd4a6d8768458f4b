/**
 * Which rules a request gets (per key, per route, globs), what an unconfigured or empty rule set costs (nothing:
 * the upstream's own bytes go out), prompt size, structured outputs, an upstream that streams raw SSE bytes, and
 * embeddings input.
 */
import { afterAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { createTestGateway, pluginHarness, scriptedProvider } from '../../testing/index.ts'
import { definePlugin } from '../../core/index.ts'
import type { ProviderRequest, ProviderResponse, SluicePlugin } from '../../core/index.ts'
import { guardrails } from '../../plugins/guardrails/index.ts'
import { SK_KEY } from './fixtures.ts'

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1, model: 'raw', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`
/** The upstream's exact bytes: the key is split across two events, and one event across two reads. */
const RAW_EVENTS = chunk('my key is sk-proj-abcd') + chunk('efghijklmnop1234 ok') + chunk('', 'stop') + 'data: [DONE]\n\n'
const RAW_READS = [RAW_EVENTS.slice(0, 150), RAW_EVENTS.slice(150)]

/** A provider that answers with raw OpenAI SSE bytes (as an HTTP upstream does), or a raw JSON body. */
const rawProvider = definePlugin((): SluicePlugin => ({
  name: 'raw',
  setup(gw) {
    gw.registerProvider({
      name: 'raw',
      formats: ['openai-chat', 'openai-embeddings'],
      async call(request: ProviderRequest): Promise<ProviderResponse> {
        const headers = new Headers()
        if (request.format === 'openai-embeddings') {
          return { status: 200, headers, format: request.format, body: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'e', usage: { prompt_tokens: 2, total_tokens: 2 } } }
        }
        if (!request.stream) {
          return { status: 200, headers, format: 'openai-chat', body: { id: 'chatcmpl-up', object: 'chat.completion', created: 1, model: 'raw', choices: [{ index: 0, message: { role: 'assistant', content: 'my key is sk-proj-abcdefghijklmnop1234 ok' }, finish_reason: 'stop' }] } }
        }
        const encoder = new TextEncoder()
        return { status: 200, headers, format: 'openai-chat', stream: (async function* () { for (const read of RAW_READS) yield encoder.encode(read) })() }
      },
    })
  },
}))

/** Takes the caller's key from a header, as an auth plugin would. */
const tenant = definePlugin((): SluicePlugin => ({
  name: 'tenant',
  hooks: {
    auth(ctx) {
      const id = ctx.request.headers.get('x-tenant')
      if (id) ctx.principal = { id, name: ctx.request.headers.get('x-tenant-name') ?? undefined }
    },
  },
}))

/** Answers `json: <text>` with the text, anything else with "fine". */
const mock = scriptedProvider({
  name: 'mock',
  replies: (_, request) => {
    const last = request.ctx.input().messages.at(-1)?.content[0]
    const text = last?.type === 'text' ? last.text : ''
    return { text: text.startsWith('json: ') ? text.slice(6) : 'fine' }
  },
})
const claude = scriptedProvider({ name: 'claude', format: 'anthropic-messages', replies: (_, request) => ({ chunks: ['{"name": "Ada", ', request.target.model === 'good' ? '"age": 36}' : '"age": "old"}'] }) })
const gw = await createTestGateway({
  plugins: [
    rawProvider(), mock, claude, tenant(),
    guardrails({
      rules: [{ type: 'secrets', action: 'block' }, { type: 'prompt-size', maxTokens: 200 }, { type: 'json-schema' }],
      keys: { 'ci-*': [{ type: 'secrets', action: 'flag' }], trusted: [] },
      routes: {
        'raw/plain': [],
        'raw/redact': [{ type: 'secrets', action: 'redact' }],
        'raw/hold': [{ type: 'custom', name: 'reviewed', check: () => false, action: 'block', on: ['output'] }, { type: 'secrets', action: 'redact' }],
        'mock/big-*': [{ type: 'prompt-size', maxTokens: 20, action: 'flag' }],
        'claude/*': [{ type: 'json-schema' }],
        'claude/flag-*': [{ type: 'json-schema', action: 'flag' }],
      },
    }),
  ],
})
afterAll(() => gw.close())

const ask = (model: string, content: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  gw.chat({ model, messages: [{ role: 'user', content }], ...extra }, headers)
const recordOf = async (response: Response) => {
  const id = response.headers.get('x-request-id')!
  for (let i = 0; i < 400 && !gw.records.some((r) => r.id === id); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  return gw.records.find((r) => r.id === id)!
}

describe('rule sets', () => {
  it('a key\'s set wins over a route\'s, a route\'s over the default; globs match, an empty set means none', async () => {
    const secret = `this is ${SK_KEY}`
    expect((await ask('mock/model', secret)).status).toBe(400) // the default: block
    const ci = await ask('raw/plain', secret, { 'x-tenant': 'ci-runner-7' }) // key glob beats the route's empty set
    expect(ci.status).toBe(200)
    expect((await recordOf(ci)).tags).toEqual({ 'guardrail:secrets.sk-key': 'input:flag,output:flag' }) // the raw upstream's reply has one too
    const trusted = await ask('mock/model', secret, { 'x-tenant': 'trusted' })
    expect(trusted.status).toBe(200)
    expect((await recordOf(trusted)).tags).toBeUndefined()
    expect((await ask('raw/plain', secret, { 'x-tenant': 'someone' })).status).toBe(200) // no key set: the route's
    expect((await ask('mock/model', secret, { 'x-tenant': 'key_8f3a', 'x-tenant-name': 'trusted' })).status).toBe(200) // by name
  })

  it('an empty set costs the request nothing: the upstream\'s own bytes go out', async () => {
    const response = await ask('raw/plain', 'hi', {}, { stream: true, stream_options: { include_usage: true } })
    expect(await response.text()).toBe(RAW_EVENTS)
  })

  it('registers no hook at all when no rule is configured, and only the phases rules need', async () => {
    const none = await pluginHarness([guardrails()])
    for (const phase of ['route', 'limit', 'call', 'stream'] as const) expect(none.hooksOf(phase)).toHaveLength(0)
    await none.close()
    const inputOnly = await pluginHarness([guardrails({ rules: [{ type: 'prompt-size', maxTokens: 10 }] })])
    expect([inputOnly.hooksOf('route'), inputOnly.hooksOf('limit'), inputOnly.hooksOf('stream'), inputOnly.hooksOf('call')].map((h) => h.length)).toEqual([1, 1, 0, 0])
    await inputOnly.close()
  })
})

describe('an upstream streaming raw SSE bytes', () => {
  it('is decoded, redacted on the window and re-encoded, the key split across events and reads', async () => {
    const body = await (await ask('raw/redact', 'hi', {}, { stream: true })).text()
    const text = [...body.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join('')
    expect(text).toBe('my key is [redacted] ok')
    expect(body).not.toContain('sk-proj')
    expect(body).not.toContain('efghijklmnop')
  })

  it('is read whole for a check that must see all of it, then streamed', async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', fetch: gw.fetch, maxRetries: 0 })
    let text = ''
    for await (const part of await openai.chat.completions.create({ model: 'raw/hold', stream: true, messages: [{ role: 'user', content: 'hi' }] })) text += part.choices[0]?.delta?.content ?? ''
    expect(text).toBe('my key is [redacted] ok')
    const whole = await openai.chat.completions.create({ model: 'raw/hold', messages: [{ role: 'user', content: 'hi' }] })
    expect(whole.choices[0]!.message.content).toBe('my key is [redacted] ok')
  })
})

describe('prompt size', () => {
  it('blocks a prompt over the limit, saying by how much, never what it holds', async () => {
    const response = await ask('mock/model', 'lorem ipsum '.repeat(100))
    expect(response.status).toBe(400)
    const { error } = await response.json()
    expect(error.message).toMatch(/^The request was blocked by guardrail "prompt-size": the prompt is about \d+ tokens, over the limit of 200\.$/)
    expect(error.message).not.toContain('lorem')
  })

  it('flags one with action flag', async () => {
    const response = await ask('mock/big-model', 'lorem ipsum '.repeat(20))
    expect(response.status).toBe(200)
    expect((await recordOf(response)).tags).toEqual({ 'guardrail:prompt-size': 'input:flag' })
  })
})

describe('structured outputs', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false }
  const format = { response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } }

  it('a translated reply (asked, not enforced, upstream) that breaks the schema is blocked; one that keeps it passes', async () => {
    const bad = await ask('claude/bad', 'who?', {}, format)
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.message).toBe('The response was blocked by guardrail "json-schema": $.age must be integer.')
    const good = await ask('claude/good', 'who?', {}, format)
    expect((await good.json()).choices[0].message.content).toBe('{"name": "Ada", "age": 36}')
  })

  it('on a stream, a block rule holds the reply to judge it whole: it arrives in one piece, or not at all', async () => {
    const good = await (await ask('claude/good', 'who?', {}, { ...format, stream: true })).text()
    expect([...good.matchAll(/"content":"((?:[^"\\]|\\.)+)"/g)].map((m) => m[1])).toEqual(['{\\"name\\": \\"Ada\\", \\"age\\": 36}'])
    const bad = await (await ask('claude/bad', 'who?', {}, { ...format, stream: true })).text()
    expect(bad).toContain('blocked by guardrail \\"json-schema\\": $.age must be integer')
    expect(bad).not.toContain('Ada')
  })

  it('a flag rule lets the reply flow and tags the record', async () => {
    const response = await ask('claude/flag-bad', 'who?', {}, { ...format, stream: true })
    expect(await response.text()).toContain('\\"age\\": \\"old\\"}')
    expect((await recordOf(response)).tags).toEqual({ 'guardrail:json-schema': 'output:flag' })
  })

  it('Anthropic\'s output_config.format, Responses\' text.format and OpenAI\'s json_object are judged too; plain text is not', async () => {
    const anthropic = await gw.messages({ model: 'claude/bad', max_tokens: 64, messages: [{ role: 'user', content: 'who?' }], output_config: { format: { type: 'json_schema', schema } } })
    expect(anthropic.status).toBe(400)
    expect((await ask('mock/model', 'json: [1]', {}, { response_format: { type: 'json_object' } })).status).toBe(400)
    expect((await ask('mock/model', 'json: {"a":1}', {}, { response_format: { type: 'json_object' } })).status).toBe(200)
    expect((await ask('mock/model', 'prose')).status).toBe(200)
    const responses = await gw.fetch(`${gw.url}/v1/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude/bad', input: 'who?', store: false, text: { format: { type: 'json_schema', name: 'person', schema } } }),
    })
    expect(responses.status).toBe(400)
    expect((await responses.json()).error.message).toBe('The response was blocked by guardrail "json-schema": $.age must be integer.')
  })
})

describe('embeddings', () => {
  it('input strings are checked like messages', async () => {
    const post = (input: unknown) => gw.fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'raw/e', input }) })
    const blocked = await post(['fine', `key ${SK_KEY}`])
    expect(blocked.status).toBe(400)
    expect(await blocked.text()).not.toContain(SK_KEY)
    expect((await post('fine')).status).toBe(200)
  })
})

describe('options', () => {
  it('a wrong option stops start-up with one line naming it', async () => {
    const message = (run: () => unknown) => { try { run() } catch (error) { return (error as Error).message } }
    expect(message(() => guardrails({ rules: [{ type: 'pii', action: 'hide' as any }] }))).toMatch(/^guardrails: option "rules.0.action"/)
    expect(message(() => guardrails({ rules: [{ type: 'secrets', action: 'block' }, { type: 'secrets', action: 'flag' }] }))).toBe('guardrails: option "rules.1.name": two rules are named "secrets"')
    expect(message(() => guardrails({ rules: [{ type: 'denylist', action: 'block' }] }))).toMatch(/a denylist needs words or patterns/)
    expect(message(() => guardrails({ routes: { x: [{ type: 'json-schema' }, { type: 'json-schema', name: 'again' }] } }))).toBe('guardrails: option "routes.x.1.type": one json-schema rule per rule set')
    expect(message(() => guardrails({ rulez: [] } as any))).toBe('guardrails: unknown option "rulez"')
    await expect(createTestGateway({ plugins: [guardrails({ rules: [{ type: 'model', name: 'judge', model: 'nowhere/x', policy: 'p' }] })] }))
      .rejects.toThrow('guardrails: rule "judge": no chat provider serves "nowhere/x"')
  })

  it('shows rule names and types, never the words or patterns', () => {
    const plugin = guardrails({ rules: [{ type: 'denylist', words: ['Bluebird'], patterns: [/ACME-\d+/], action: 'block' }] })
    expect(JSON.stringify(plugin.options)).not.toMatch(/Bluebird|ACME/)
    expect(plugin.options).toMatchObject({ rules: ['denylist (denylist, block)'] })
  })
})
