/**
 * The official `openai` client, pointed at the gateway by base URL only, against the Anthropic and Gemini mock
 * upstreams: text, streams, tools (streamed and not), upstream errors, streams that die midway, usage in
 * OpenAI's own counters, embeddings onto Gemini, and GET /v1/models.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startProviderRig, type ProviderRig } from './setup.ts'
import { replay, sseRecords } from './helpers.ts'

let rig: ProviderRig
let client: OpenAI

beforeAll(async () => {
  rig = await startProviderRig()
  client = new OpenAI({ apiKey: 'client-key', baseURL: `${rig.gateway.url}/v1`, maxRetries: 0 })
})
afterAll(async () => {
  await rig?.close()
})

const WEATHER = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } } }
const TIME = { type: 'function' as const, function: { name: 'get_time', description: 'Time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }

interface Case {
  provider: 'anthropic' | 'gemini'
  model: string
  mock: () => ProviderRig['anthropic']
  greeting: RegExp
  /** The usage the upstream reports for the request it received, in OpenAI's counters. */
  expectedUsage(upstreamRequest: { path: string; body: any }): Promise<{ prompt_tokens: number; completion_tokens: number; cached: number }>
}

const cases: Case[] = [
  {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    mock: () => rig.anthropic,
    greeting: /^Hello from the mock Anthropic upstream\.$/,
    async expectedUsage({ body }) {
      const { stream: _, ...plain } = body
      const { usage } = await replay(`${rig.anthropic.url}/v1/messages`, { 'x-api-key': 'test-anthropic-key', 'anthropic-version': '2023-06-01' }, plain)
      return {
        prompt_tokens: usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
        completion_tokens: usage.output_tokens,
        cached: usage.cache_read_input_tokens,
      }
    },
  },
  {
    provider: 'gemini',
    model: 'gemini-2.5-flash',
    mock: () => rig.gemini,
    greeting: /^Hello from the mock Gemini upstream\.$/,
    async expectedUsage({ path, body }) {
      const url = rig.gemini.url + path.replace(':streamGenerateContent?alt=sse', ':generateContent')
      const { usageMetadata: u } = await replay(url, { 'x-goog-api-key': 'test-gemini-key' }, body)
      return { prompt_tokens: u.promptTokenCount, completion_tokens: u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0), cached: u.cachedContentTokenCount ?? 0 }
    },
  },
]

for (const c of cases) {
  describe(`openai client → ${c.provider}`, () => {
    const model = `${c.provider}/${c.model}`
    const upstreamRequest = () => c.mock().requests.at(-1)!

    it('text: answer, finish reason, routing headers and usage in OpenAI counters', async () => {
      const { data, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }] })
        .withResponse()
      expect(data.object).toBe('chat.completion')
      expect(data.model).toBe(model)
      expect(data.choices[0]!.message.content).toMatch(c.greeting)
      expect(data.choices[0]!.finish_reason).toBe('stop')
      expect(response.headers.get('x-sluice-provider')).toBe(c.provider)
      expect(response.headers.get('x-sluice-model')).toBe(c.model)
      const expected = await c.expectedUsage(upstreamRequest())
      expect(data.usage).toMatchObject({
        prompt_tokens: expected.prompt_tokens,
        completion_tokens: expected.completion_tokens,
        total_tokens: expected.prompt_tokens + expected.completion_tokens,
      })
      expect(data.usage!.prompt_tokens_details?.cached_tokens).toBe(expected.cached)
    })

    it('stream: finalChatCompletion() gives the whole answer and the usage the client asked for', async () => {
      const runner = client.chat.completions.stream({ model, messages: [{ role: 'user', content: 'Hello' }], stream_options: { include_usage: true } })
      const chunks: any[] = []
      runner.on('chunk', (chunk) => chunks.push(chunk))
      const final = await runner.finalChatCompletion()
      expect(final.choices[0]!.message.content).toMatch(c.greeting)
      expect(final.choices[0]!.finish_reason).toBe('stop')
      expect(chunks.length).toBeGreaterThan(2) // translated event by event, not in one piece
      const sent = upstreamRequest()
      const expected = await c.expectedUsage(sent)
      expect(final.usage).toMatchObject({ prompt_tokens: expected.prompt_tokens, completion_tokens: expected.completion_tokens })
    })

    it('stream: no usage chunk when the client did not ask for one', async () => {
      const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Hello' }] })
      let text = ''
      const chunks: any[] = []
      for await (const chunk of stream) {
        chunks.push(chunk)
        text += chunk.choices[0]?.delta?.content ?? ''
      }
      expect(text).toMatch(c.greeting)
      expect(chunks.some((chunk) => chunk.choices.length === 0 || chunk.usage)).toBe(false)
    })

    it('tools, non-stream: one call with parsed arguments', async () => {
      const out = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }], tools: [WEATHER], tool_choice: 'auto' })
      expect(out.choices[0]!.finish_reason).toBe('tool_calls')
      const call = out.choices[0]!.message.tool_calls![0] as any
      expect(call.type).toBe('function')
      expect(call.function.name).toBe('get_weather')
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
      expect(call.id).toMatch(/\S/)
    })

    it('tools, streamed: parallel calls assembled by finalChatCompletion(), then the tool-results turn', async () => {
      const messages: any[] = [{ role: 'user', content: 'Weather in Paris and time in Tokyo? MOCK_PARALLEL_TOOLS' }]
      const final = await client.chat.completions.stream({ model, messages, tools: [WEATHER, TIME] }).finalChatCompletion()
      expect(final.choices[0]!.finish_reason).toBe('tool_calls')
      const calls = final.choices[0]!.message.tool_calls! as any[]
      expect(calls.map((call) => [call.function.name, JSON.parse(call.function.arguments)])).toEqual([
        ['get_weather', { city: 'Paris', unit: 'celsius' }],
        ['get_time', { city: 'Tokyo', unit: 'celsius' }],
      ])
      expect(new Set(calls.map((call) => call.id)).size).toBe(2)
      messages.push(final.choices[0]!.message, ...calls.map((call) => ({ role: 'tool', tool_call_id: call.id, content: `{"ok":"${call.function.name}"}` })))
      const next = await client.chat.completions.create({ model, messages, tools: [WEATHER, TIME] })
      expect(next.choices[0]!.message.content).toMatch(/The tool said: .*get_weather.*get_time/)
    })

    it('an upstream 429 reaches the client as RateLimitError in the OpenAI shape', async () => {
      const error: any = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'MOCK_ERROR_429' }] }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.RateLimitError)
      expect(error.status).toBe(429)
      expect(error.error).toMatchObject({ type: 'rate_limit_error' })
      expect(typeof error.error.message).toBe('string')
    })

    it('an upstream 4xx (bad request; unknown model) keeps its status and message', async () => {
      const error: any = await client.chat.completions.create({ model: `${c.provider}/${c.provider === 'gemini' ? 'missing-model' : c.model}`, messages: [{ role: 'user', content: c.provider === 'gemini' ? 'x' : 'MOCK_ERROR_400' }] }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.APIError)
      expect(error.status).toBe(c.provider === 'gemini' ? 404 : 400)
      expect(error.error.message).toMatch(c.provider === 'gemini' ? /models\/missing-model is not found/ : /mock error 400/)
    })

    it('a stream that dies midway ends with an error event and [DONE], which the SDK raises', async () => {
      const response = await fetch(`${rig.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Hello MOCK_DIE' }] }),
      })
      expect(response.status).toBe(200)
      const records = sseRecords(await response.text())
      expect(records.at(-1)!.data).toBe('[DONE]')
      expect(JSON.parse(records.at(-2)!.data)).toMatchObject({ error: { type: 'api_error' } })
      expect(records.filter((r) => r.data.includes('"delta"')).length).toBeGreaterThan(0) // what arrived before the cut went out

      const error: any = await client.chat.completions.stream({ model, messages: [{ role: 'user', content: 'Hello MOCK_DIE' }] }).finalChatCompletion().catch((e) => e)
      expect(error).toBeInstanceOf(Error)
    })
  })
}

describe('what the upstreams received', () => {
  it('anthropic: /v1/messages with x-api-key and anthropic-version, the upstream model, and not the client key', async () => {
    await client.chat.completions.create({ model: 'anthropic/claude-haiku-4-5', messages: [{ role: 'user', content: 'Hello' }] })
    const sent = rig.anthropic.requests.at(-1)!
    expect(sent.path).toBe('/v1/messages')
    expect(sent.headers['x-api-key']).toBe('test-anthropic-key')
    expect(sent.headers['anthropic-version']).toBe('2023-06-01')
    expect(sent.headers.authorization).toBeUndefined()
    expect(sent.body.model).toBe('claude-haiku-4-5')
    expect(sent.body.max_tokens).toBeGreaterThan(0)
  })

  it('gemini: the model in the path, the key only in x-goog-api-key, alt=sse when streaming', async () => {
    await client.chat.completions.create({ model: 'gemini/gemini-2.0-flash', messages: [{ role: 'user', content: 'Hello' }] })
    const plain = rig.gemini.requests.at(-1)!
    expect(plain.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent')
    expect(plain.body.model).toBeUndefined()

    const stream = await client.chat.completions.create({ model: 'gemini/gemini-2.0-flash', stream: true, messages: [{ role: 'user', content: 'Hello' }] })
    for await (const _ of stream) { /* drain */ }
    const streamed = rig.gemini.requests.at(-1)!
    expect(streamed.path).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse')
    for (const sent of [plain, streamed]) {
      expect(sent.headers['x-goog-api-key']).toBe('test-gemini-key')
      expect(sent.path).not.toContain('key=')
      expect(sent.headers.authorization).toBeUndefined()
    }
  })
})

describe('embeddings onto Gemini batchEmbedContents', () => {
  it('the openai client gets OpenAI-shaped vectors equal to what Gemini returned', async () => {
    const input = ['the quick brown fox', 'jumps']
    const result: any = await client.embeddings.create({ model: 'gemini/text-embedding-004', input })
    const sent = rig.gemini.requests.at(-1)!
    expect(sent.path).toBe('/v1beta/models/text-embedding-004:batchEmbedContents')
    expect(sent.headers['x-goog-api-key']).toBe('test-gemini-key')
    expect(sent.body.requests.map((r: any) => r.model)).toEqual(['models/text-embedding-004', 'models/text-embedding-004'])
    const upstream = await replay(rig.gemini.url + sent.path, { 'x-goog-api-key': 'test-gemini-key' }, sent.body)
    expect(result.object).toBe('list')
    expect(result.data.map((d: any) => d.index)).toEqual([0, 1])
    // the SDK asked for base64 and decoded it: float32 precision
    result.data.forEach((d: any, i: number) => {
      expect(d.embedding).toHaveLength(upstream.embeddings[i].values.length)
      d.embedding.forEach((v: number, k: number) => expect(v).toBeCloseTo(upstream.embeddings[i].values[k], 6))
    })
  })

  it('float encoding and dimensions', async () => {
    const result: any = await client.embeddings.create({ model: 'gemini/text-embedding-004', input: 'hi', encoding_format: 'float', dimensions: 4 })
    expect(rig.gemini.requests.at(-1)!.body.requests[0].outputDimensionality).toBe(4)
    expect(result.data[0].embedding).toHaveLength(4)
  })
})

describe('GET /v1/models', () => {
  it('lists every configured provider\'s models with its prefix', async () => {
    const ids: string[] = []
    for await (const model of client.models.list()) ids.push(model.id)
    expect(ids).toEqual(expect.arrayContaining([
      'openai/gpt-4o', 'anthropic/claude-sonnet-4-5', 'gemini/gemini-2.5-flash', 'gemini/text-embedding-004',
      'azure/gpt-4o', 'azure/text-embedding-3-small', 'groq/llama-3.3-70b-versatile',
    ]))
    expect(ids.every((id) => /^[a-z0-9_.-]+\/.+/.test(id))).toBe(true)
  })
})
