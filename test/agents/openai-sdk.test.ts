/**
 * The official `openai` SDK's Responses API through the gateway: `responses.create` and `responses.stream` —
 * text, a function tool loop, structured output (`text.format` json_schema) — onto an OpenAI target and onto an
 * Anthropic target (translated). The SDK is the root's dev dependency: this suite needs no agents install.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from './helpers.ts'

const WEATHER = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
}

/** A tool call both mocks script: the Anthropic mock reads `MOCK_CALL`, the OpenAI mock `[call …]` (one per line). */
const callPrompt = (name: string, args: object) => `What is the weather in Paris?\nMOCK_CALL ${name} ${JSON.stringify(args)}\n[call ${name} ${JSON.stringify(args)}]`
const jsonPrompt = (value: object) => `Describe Paris as JSON.\nMOCK_JSON ${JSON.stringify(value)}\n[json ${JSON.stringify(value)}]`

const PERSON_FORMAT = {
  type: 'json_schema' as const,
  name: 'city',
  strict: true,
  schema: { type: 'object', properties: { city: { type: 'string' }, tempC: { type: 'number' } }, required: ['city', 'tempC'], additionalProperties: false },
}

const TARGETS = [
  { name: 'OpenAI', model: 'openai/gpt-4o', provider: 'openai', text: /^echo: /, toolAnswer: 'Tool get_weather returned: {"tempC":21}' },
  { name: 'Anthropic (translated)', model: 'anthropic/claude-sonnet-4-5', provider: 'anthropic', text: /^Hello from the mock Anthropic upstream\.$/, toolAnswer: 'The tool said: {"tempC":21}' },
]

describe('openai SDK Responses API through Sluice', () => {
  let stack: Stack
  let client: OpenAI
  beforeAll(async () => {
    stack = await startStack()
    client = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: 'sk-client-key-for-sluice', maxRetries: 0, timeout: 20_000 })
  })
  afterAll(async () => {
    await stack?.close()
  })

  describe.each(TARGETS)('onto $name', (target) => {
    it('responses.create: text, usage and the gateway headers', async () => {
      const { data, response } = await client.responses.create({ model: target.model, input: 'Say hello', instructions: 'Be terse.' }).withResponse()
      expect(data.object).toBe('response')
      expect(data.status).toBe('completed')
      expect(data.output_text).toMatch(target.text)
      expect(data.usage?.input_tokens).toBeGreaterThan(0)
      expect(data.usage?.output_tokens).toBeGreaterThan(0)
      expect(response.headers.get('x-sluice-provider')).toBe(target.provider)
    })

    it('responses.stream: typed events the SDK accepts, deltas that add up to the final text', async () => {
      const stream = client.responses.stream({ model: target.model, input: 'Say hello, streamed' })
      let deltas = ''
      const types = new Set<string>()
      for await (const event of stream) {
        types.add(event.type)
        if (event.type === 'response.output_text.delta') deltas += event.delta
      }
      const final = await stream.finalResponse()
      expect(final.status).toBe('completed')
      expect(final.output_text).toMatch(target.text)
      expect(deltas).toBe(final.output_text)
      expect([...types]).toEqual(expect.arrayContaining(['response.created', 'response.output_item.added', 'response.output_text.delta', 'response.completed']))
      expect(final.usage?.output_tokens).toBeGreaterThan(0)
      const upstream = target.provider === 'openai' ? stack.openai.requests.at(-1)! : stack.anthropic.requests.at(-1)!
      expect(upstream.body.stream).toBe(true)
    })

    it('a function tool loop: the call, then the answer to its output (create, then stream)', async () => {
      const input: any[] = [{ role: 'user', content: callPrompt('get_weather', { city: 'Paris' }) }]
      const first = await client.responses.create({ model: target.model, input, tools: [WEATHER] })
      const calls = first.output.filter((item) => item.type === 'function_call')
      expect(calls.map((c: any) => [c.name, JSON.parse(c.arguments)])).toEqual([['get_weather', { city: 'Paris' }]])
      input.push(...calls, ...calls.map((c: any) => ({ type: 'function_call_output', call_id: c.call_id, output: '{"tempC":21}' })))
      const second = await client.responses.stream({ model: target.model, input, tools: [WEATHER] }).finalResponse()
      expect(second.output.filter((item) => item.type === 'function_call')).toEqual([])
      expect(second.output_text).toBe(target.toolAnswer)
    })

    it('a function call streamed: arguments deltas and the finished item', async () => {
      const stream = client.responses.stream({ model: target.model, input: callPrompt('get_weather', { city: 'Paris' }), tools: [WEATHER] })
      let args = ''
      for await (const event of stream) if (event.type === 'response.function_call_arguments.delta') args += event.delta
      const final = await stream.finalResponse()
      const call = final.output.find((item) => item.type === 'function_call') as any
      expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' })
      expect(args).toBe(call.arguments)
    })

    it('structured output: text.format json_schema, create and stream', async () => {
      const value = { city: 'Paris', tempC: 21 }
      const whole = await client.responses.create({ model: target.model, input: jsonPrompt(value), text: { format: PERSON_FORMAT } })
      expect(JSON.parse(whole.output_text)).toEqual(value)
      const streamed = await client.responses.stream({ model: target.model, input: jsonPrompt(value), text: { format: PERSON_FORMAT } }).finalResponse()
      expect(JSON.parse(streamed.output_text)).toEqual(value)
      const upstream = target.provider === 'openai' ? stack.openai.requests.at(-1)!.body : stack.anthropic.requests.at(-1)!.body
      // The schema reached the upstream in its own terms (response_format or text.format; a system instruction on Anthropic).
      expect(JSON.stringify(upstream)).toContain('tempC')
    })
  })

  // FAILS on this branch (gateway gap): the `openai()` provider speaks only chat completions and embeddings
  // (plugins/providers/openai-compatible/index.ts:30, `formats`), so a Responses request onto OpenAI is
  // translated to /v1/chat/completions instead of passed through to the upstream's /v1/responses.
  it('onto OpenAI, passthrough: the upstream\'s /v1/responses gets the body as sent, unknown fields kept', async () => {
    const before = stack.openai.requests.length
    await client.responses.create({ model: 'openai/gpt-4o', input: 'Say hello', store: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'k1', metadata: { run: 'passthrough' } })
    const upstream = stack.openai.requests.slice(before)
    expect(upstream.map((r) => r.path)).toEqual(['/v1/responses'])
    expect(upstream[0]!.body).toMatchObject({ model: 'gpt-4o', input: 'Say hello', store: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'k1', metadata: { run: 'passthrough' } })
  })

  // `previous_response_id` is the `responses()` plugin's (conversation state in the gateway's storage).
  it.each(TARGETS)('previous_response_id onto $name: the second turn carries the first one\'s input and output', async (target) => {
    const first = await client.responses.create({ model: target.model, input: 'My name is Ada.', store: true })
    const second = await client.responses.create({ model: target.model, input: 'What is my name?', previous_response_id: first.id, store: true })
    expect(second.previous_response_id).toBe(first.id)
    const upstream = target.provider === 'openai' ? stack.openai.requests.at(-1)!.body : stack.anthropic.requests.at(-1)!.body
    expect(JSON.stringify(upstream)).toContain('My name is Ada.')
    expect(JSON.stringify(upstream)).toContain(first.output_text)
  })
})
