/**
 * The official `@anthropic-ai/sdk` client, pointed at the gateway by base URL only (it posts to
 * `${baseURL}/v1/messages`), against the OpenAI, Gemini and Anthropic (passthrough) mock upstreams: text,
 * streams through finalMessage(), tools (streamed and not), upstream errors in the Anthropic error shape,
 * streams that die midway, and usage in Anthropic's own counters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startProviderRig, type ProviderRig } from './setup.ts'
import { replay, sseRecords } from './helpers.ts'

let rig: ProviderRig
let client: Anthropic

beforeAll(async () => {
  rig = await startProviderRig()
  client = new Anthropic({ baseURL: rig.gateway.url, apiKey: 'x', maxRetries: 0 })
})
afterAll(async () => {
  await rig?.close()
})

const TOOLS = [
  { name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } },
  { name: 'get_time', description: 'Time in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } },
]

interface AnthropicUsage { input_tokens: number; output_tokens: number; cache_read_input_tokens: number }

interface Case {
  provider: 'openai' | 'gemini' | 'anthropic'
  model: string
  /** Last request the upstream received. */
  sent(): { path: string; body: any }
  /** The user text that makes the upstream answer with `n` tools / an error status / a cut stream. */
  say: { tool: string; parallel: string; error: (status: number) => string; die: string }
  greeting(prompt: string): RegExp
  /** The usage the upstream reports for what it received, in Anthropic's counters. */
  expectedUsage(sent: { path: string; body: any }): Promise<AnthropicUsage>
}

const cases: Case[] = [
  {
    provider: 'openai',
    model: 'gpt-4o',
    sent: () => rig.openai.requests.at(-1)!,
    say: { tool: '[tools]', parallel: '[tools]', error: (status) => `[error ${status}]`, die: '[die]' },
    greeting: (prompt) => new RegExp(`^echo: ${prompt.replace(/[[\]]/g, '\\$&')}$`),
    async expectedUsage({ body }) {
      const { usage } = await replay(`${rig.openai.url}/chat/completions`, {}, { ...body, stream: false, stream_options: undefined })
      const cached = usage.prompt_tokens_details?.cached_tokens ?? 0
      return { input_tokens: usage.prompt_tokens - cached, output_tokens: usage.completion_tokens, cache_read_input_tokens: cached }
    },
  },
  {
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    sent: () => rig.gemini.requests.at(-1)!,
    say: { tool: 'MOCK_TOOL', parallel: 'MOCK_PARALLEL_TOOLS', error: (status) => `MOCK_ERROR_${status}`, die: 'MOCK_DIE' },
    greeting: () => /^Hello from the mock Gemini upstream\.$/,
    async expectedUsage({ path, body }) {
      const url = rig.gemini.url + path.replace(':streamGenerateContent?alt=sse', ':generateContent')
      const { usageMetadata: u } = await replay(url, { 'x-goog-api-key': 'test-gemini-key' }, body)
      const cached = u.cachedContentTokenCount ?? 0
      return { input_tokens: u.promptTokenCount - cached, output_tokens: u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0), cache_read_input_tokens: cached }
    },
  },
  {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    sent: () => rig.anthropic.requests.at(-1)!,
    say: { tool: 'MOCK_TOOL', parallel: 'MOCK_PARALLEL_TOOLS', error: (status) => `MOCK_ERROR_${status}`, die: 'MOCK_DIE' },
    greeting: () => /^Hello from the mock Anthropic upstream\.$/,
    async expectedUsage({ body }) {
      const { usage } = await replay(`${rig.anthropic.url}/v1/messages`, { 'x-api-key': 'test-anthropic-key', 'anthropic-version': '2023-06-01' }, { ...body, stream: false })
      return { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, cache_read_input_tokens: usage.cache_read_input_tokens }
    },
  },
]

for (const c of cases) {
  describe(`anthropic client → ${c.provider}`, () => {
    const model = `${c.provider}/${c.model}`

    it('text: a complete message with usage in Anthropic counters', async () => {
      const { data, response } = await client.messages
        .create({ model, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] })
        .withResponse()
      expect(data.type).toBe('message')
      expect(data.role).toBe('assistant')
      expect(data.content).toHaveLength(1)
      expect(data.content[0]).toMatchObject({ type: 'text' })
      expect((data.content[0] as any).text).toMatch(c.greeting('Hello'))
      expect(data.stop_reason).toBe('end_turn')
      expect(response.headers.get('x-sluice-provider')).toBe(c.provider)
      expect(data.usage).toMatchObject(await c.expectedUsage(c.sent()))
    })

    it('stream: finalMessage() gives the whole message and the same usage', async () => {
      const stream = client.messages.stream({ model, max_tokens: 200, messages: [{ role: 'user', content: 'Hello' }] })
      const events: string[] = []
      stream.on('streamEvent', (event) => events.push(event.type))
      const message = await stream.finalMessage()
      expect((message.content[0] as any).text).toMatch(c.greeting('Hello'))
      expect(message.stop_reason).toBe('end_turn')
      expect(events[0]).toBe('message_start')
      expect(events.at(-1)).toBe('message_stop')
      expect(events.filter((e) => e === 'content_block_delta').length).toBeGreaterThan(1)
      expect(message.usage).toMatchObject(await c.expectedUsage(c.sent()))
    })

    it('tools, non-stream: tool_use blocks with parsed input', async () => {
      const message = await client.messages.create({ model, max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: `Weather? ${c.say.tool}` }] })
      expect(message.stop_reason).toBe('tool_use')
      const uses = message.content.filter((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock[]
      expect(uses.length).toBeGreaterThan(0)
      expect(uses[0]).toMatchObject({ name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } })
      expect(uses[0]!.id).toMatch(/^[a-zA-Z0-9_-]+$/)
    })

    it('tools, streamed: finalMessage() assembles the calls, and the tool results go back', async () => {
      const first = await client.messages.stream({ model, max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: `Both please ${c.say.parallel}` }] }).finalMessage()
      expect(first.stop_reason).toBe('tool_use')
      const uses = first.content.filter((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock[]
      expect(uses.map((b) => b.name)).toEqual(['get_weather', 'get_time'])
      expect(uses[0]!.input).toEqual({ city: 'Paris', unit: 'celsius' })
      expect(new Set(uses.map((b) => b.id)).size).toBe(2)
      const next = await client.messages.create({
        model, max_tokens: 200, tools: TOOLS,
        messages: [
          { role: 'user', content: 'Both please' },
          { role: 'assistant', content: first.content as any },
          { role: 'user', content: uses.map((b) => ({ type: 'tool_result' as const, tool_use_id: b.id, content: `done ${b.name}` })) },
        ],
      })
      expect(next.stop_reason).toBe('end_turn')
      if (c.provider !== 'openai') expect((next.content[0] as any).text).toMatch(/The tool said: .*done get_weather.*done get_time/)
      // the upstream got the results paired with its own calls
      const sent = c.sent().body
      if (c.provider === 'openai') expect(sent.messages.filter((m: any) => m.role === 'tool').map((m: any) => m.tool_call_id)).toEqual(uses.map((b) => b.id))
    })

    it('an upstream 429 comes back as RateLimitError in the Anthropic error shape', async () => {
      const error: any = await client.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: c.say.error(429) }] }).catch((e) => e)
      expect(error).toBeInstanceOf(Anthropic.RateLimitError)
      expect(error.status).toBe(429)
      expect(error.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
      expect(typeof error.error.error.message).toBe('string')
    })

    it('an upstream 500 comes back as an Anthropic api_error', async () => {
      const error: any = await client.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: c.say.error(500) }] }).catch((e) => e)
      expect(error).toBeInstanceOf(Anthropic.InternalServerError)
      expect(error.error).toMatchObject({ type: 'error', error: { type: 'api_error' } })
    })

    it('a stream that dies midway ends with an Anthropic error event, which the SDK raises', async () => {
      const response = await fetch(`${rig.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'x' },
        body: JSON.stringify({ model, max_tokens: 200, stream: true, messages: [{ role: 'user', content: `Hello ${c.say.die}` }] }),
      })
      expect(response.status).toBe(200)
      const records = sseRecords(await response.text())
      expect(records[0]!.event).toBe('message_start')
      const last = records.at(-1)!
      expect(last.event).toBe('error')
      expect(JSON.parse(last.data)).toMatchObject({ type: 'error', error: { type: 'api_error' } })
      expect(records.some((r) => r.event === 'message_stop')).toBe(false)

      const error: any = await client.messages.stream({ model, max_tokens: 200, messages: [{ role: 'user', content: `Hello ${c.say.die}` }] }).finalMessage().catch((e) => e)
      expect(error).toBeInstanceOf(Anthropic.APIError)
    })
  })
}

describe('anthropic passthrough', () => {
  it('the body reaches Anthropic as sent (unknown fields kept) and the answer comes back byte for byte', async () => {
    const body = { model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], metadata: { user_id: 'u-1' }, vendor_field: { deep: [1, 2] } }
    const response = await fetch(`${rig.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'x', 'anthropic-beta': 'test-beta-2025' }, body: JSON.stringify(body) })
    const text = await response.text()
    const sent = rig.anthropic.requests.at(-1)!
    expect(sent.body).toEqual({ ...body, model: 'claude-sonnet-4-5' })
    expect(sent.headers['anthropic-beta']).toBe('test-beta-2025')
    expect(sent.headers['x-api-key']).toBe('test-anthropic-key')
    const direct = await replay(`${rig.anthropic.url}/v1/messages`, { 'x-api-key': 'test-anthropic-key', 'anthropic-version': '2023-06-01' }, sent.body)
    expect(JSON.parse(text)).toEqual({ ...direct, id: JSON.parse(text).id })
  })

  it('thinking blocks and their signatures survive the stream', async () => {
    const message = await client.messages.stream({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'MOCK_THINKING' }] }).finalMessage()
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text'])
    expect((message.content[0] as any).signature).toBe('EqQBCkYIBxgCKkBmockSignature')
  })

  it('an upstream error event midway reaches the SDK', async () => {
    const error: any = await client.messages.stream({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'MOCK_STREAM_ERROR' }] }).finalMessage().catch((e) => e)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(String(error.message)).toMatch(/overloaded/i)
  })
})

describe('gateway errors on /v1/messages use the Anthropic shape', () => {
  it('an unknown model is a not-found in the Anthropic shape', async () => {
    const error: any = await client.messages.create({ model: 'nobody/model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(Anthropic.NotFoundError)
    expect(error.error).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.stringContaining('nobody/model') } })
  })

  it('an unreachable provider is a 502 api_error without internal addresses', async () => {
    const error: any = await client.messages.create({ model: 'ollama/llama3.2', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(error.status).toBe(502)
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'api_error' } })
    expect(JSON.stringify(error.error)).not.toContain('127.0.0.1')
  })

  it('a request the gateway refuses is an invalid_request_error', async () => {
    const response = await fetch(`${rig.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"openai/gpt-4o","max_tokens":5}' })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
  })
})
