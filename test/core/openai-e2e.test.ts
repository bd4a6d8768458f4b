/** The official `openai` client against a gateway started from a config file, in front of the mock upstream. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'

let mock: MockOpenAI
let gateway: TestGateway
let client: OpenAI

beforeAll(async () => {
  mock = await startMockOpenAI()
  gateway = await startGatewayFromFile('openai-mock.config.ts', { MOCK_OPENAI_URL: mock.url })
  client = new OpenAI({ apiKey: 'anything', baseURL: `${gateway.url}/v1`, maxRetries: 0 })
})
afterAll(async () => {
  await gateway?.close()
  await mock?.close()
})

const lastRequest = () => mock.requests.at(-1)!

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('non-stream', () => {
  it('answers through the provider and reports usage and routing headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse()
    expect(data.choices[0]!.message.content).toBe('echo: hello there')
    expect(data.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 })
    expect(response.headers.get('x-sluice-provider')).toBe('openai')
    expect(response.headers.get('x-sluice-model')).toBe('gpt-4o-mini')
    expect(response.headers.get('x-sluice-attempts')).toBe('1')
    expect(response.headers.get('x-request-id')).toMatch(/^req_/)
    // the upstream got the upstream model name, our provider key, and not the client's key
    expect(lastRequest().body.model).toBe('gpt-4o-mini')
    expect(lastRequest().headers.authorization).toBe('Bearer sk-test-upstream-secret-000000')
  })

  it("keeps its own x-request-id and echoes the client's as x-client-request-id", async () => {
    const { response } = await client.chat.completions
      .create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'my-trace-42' } })
      .withResponse()
    expect(response.headers.get('x-request-id')).toMatch(/^req_/)
    expect(response.headers.get('x-client-request-id')).toBe('my-trace-42')
  })

  it('passes unknown request fields through untouched', async () => {
    await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'fields' }],
      // fields the gateway does not know must reach the upstream as they were
      ...({ vendor_extension: { nested: [1, 2, { deep: true }] }, seed: 7 } as object),
    })
    expect(lastRequest().body.vendor_extension).toEqual({ nested: [1, 2, { deep: true }] })
    expect(lastRequest().body.seed).toBe(7)
  })

  it('returns tool calls', async () => {
    const completion = await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'weather and time [tools]' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
    })
    const calls = completion.choices[0]!.message.tool_calls!
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls')
    expect(calls.map((c: any) => c.function.name)).toEqual(['get_weather', 'get_time'])
    expect(JSON.parse((calls[0] as any).function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
  })

  it('serves embeddings', async () => {
    const result = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['a b', 'c'] })
    expect(result.data).toHaveLength(2)
    expect(result.usage.prompt_tokens).toBe(3)
  })
})

describe('stream', () => {
  it('passes chunks through and hides the usage chunk it asked for', async () => {
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o', stream: true, messages: [{ role: 'user', content: 'one two three' }] })
    let text = ''
    const chunks: any[] = []
    for await (const chunk of stream) {
      chunks.push(chunk)
      text += chunk.choices[0]?.delta?.content ?? ''
    }
    expect(text).toBe('echo: one two three')
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false)
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop')
    // the gateway asked the upstream for usage on the client's behalf
    expect(lastRequest().body.stream_options).toEqual({ include_usage: true })
  })

  it('keeps the usage chunk when the client asked for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'openai/gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'count me' }],
    })
    let usage: any
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 })
  })

  it('streams tool-call deltas that the SDK assembles into a final completion', async () => {
    const runner = client.chat.completions.stream({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'both please [tools]' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
    })
    const final = await runner.finalChatCompletion()
    const calls = final.choices[0]!.message.tool_calls!
    expect(calls).toHaveLength(2)
    expect(JSON.parse((calls[1] as any).function.arguments)).toEqual({ timezone: 'Europe/Paris' })
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
  })

  it('streams from the built-in echo provider word by word', async () => {
    const stream = await client.chat.completions.create({ model: 'echo/echo-1', stream: true, messages: [{ role: 'user', content: 'a b c d' }] })
    const deltas: string[] = []
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) deltas.push(chunk.choices[0].delta.content)
    expect(deltas).toEqual(['a ', 'b ', 'c ', 'd'])
  })

  it('aborts the upstream request at once when the client disconnects', async () => {
    const controller = new AbortController()
    const aborted = mock.nextAbort()
    const stream = await client.chat.completions.create(
      { model: 'openai/gpt-4o', stream: true, messages: [{ role: 'user', content: '[slow 200]' }] },
      { signal: controller.signal },
    )
    let seen = 0
    try {
      for await (const _ of stream) if (++seen === 2) controller.abort()
    } catch {
      // the SDK may throw an abort error or simply end the iteration
    }
    await aborted // the mock saw its response abandoned long before its 200 chunks (10 s) were sent
    expect(seen).toBe(2)
  })

  it('ends a stream that dies midway with an error event', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o', stream: true, messages: [{ role: 'user', content: 'go [die]' }] }),
    })
    const text = await response.text()
    expect(response.status).toBe(200)
    expect(text).toMatch(/data: \{"error":\{"message":"[^"]+","type":"api_error"/)
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
  })
})

describe('upstream failures', () => {
  it('returns the upstream status and message in the OpenAI shape', async () => {
    const error = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: '[error 429]' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error.status).toBe(429)
    expect(error.message).toContain('Rate limit reached')
    expect(error.headers.get('retry-after')).toBe('1')
  })

  it('maps a connection failure to 502', async () => {
    const error = await client.chat.completions.create({ model: 'nowhere/m', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(error.status).toBe(502)
    expect(error.error).toMatchObject({ type: 'api_error', code: 'connection_error' })
    expect(JSON.stringify(error.error)).not.toContain('127.0.0.1')
  })

  it('maps a first-byte timeout to 504 and aborts the upstream', async () => {
    const aborted = mock.nextAbort()
    const error = await client.chat.completions.create({ model: 'local/m', messages: [{ role: 'user', content: '[hang]' }] }).catch((e) => e)
    expect(error.status).toBe(504)
    expect(error.error).toMatchObject({ type: 'timeout_error', code: 'first_byte_timeout' })
    await aborted
  })

  it('aborts the upstream request at once when the client leaves before the first byte (non-stream)', async () => {
    const controller = new AbortController()
    const aborted = mock.nextAbort()
    const before = mock.requests.length
    const pending = client.chat.completions
      .create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: '[hang]' }] }, { signal: controller.signal })
      .catch((error) => error)
    await waitFor(() => mock.requests.length > before) // the gateway is waiting for the upstream's answer
    const left = performance.now()
    controller.abort()
    expect(await pending).toBeInstanceOf(Error)
    await aborted // the mock never answers: only the gateway giving up the upstream request ends it
    expect(performance.now() - left).toBeLessThan(5_000)
  })
})
