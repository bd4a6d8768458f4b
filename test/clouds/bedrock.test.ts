/**
 * Claude on AWS Bedrock from the official `openai` and `@anthropic-ai/sdk` clients, through a gateway whose only
 * credentials are the AWS_* environment variables: Converse and ConverseStream (binary event stream), tools both
 * ways, images, usage with cache counts, and every request's SigV4 signature recomputed by the mock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { bedrock } from '../../plugins/providers/index.ts'
import { createTestGateway } from '../../testing/index.ts'
import { eventually } from '../helpers/gateway.ts'
import { AWS, startCloudRig, type CloudRig } from './setup.ts'

const MODEL = 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const ARN = 'bedrock/arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0'
// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

let rig: CloudRig
let openai: OpenAI
let anthropic: Anthropic

beforeAll(async () => {
  rig = await startCloudRig()
  openai = new OpenAI({ baseURL: `${rig.gateway.url}/v1`, apiKey: 'x', maxRetries: 0 })
  anthropic = new Anthropic({ baseURL: rig.gateway.url, apiKey: 'x', maxRetries: 0 })
})
afterAll(async () => {
  await rig?.close()
})

const sent = () => rig.bedrock.requests.at(-1)!
const OPENAI_TOOLS: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } } },
]
const ANTHROPIC_TOOLS = [{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }]

/** The usage the mock reports for the last request: its counts, cache reads and writes apart. */
function mockUsage() {
  const body = sent().body
  const inputTokens = Math.max(1, Math.ceil(JSON.stringify([body.system ?? [], body.messages]).length / 4))
  return { inputTokens, read: 7, write: 3 }
}

describe('openai client → Claude on Bedrock', () => {
  it('text: a signed Converse call; system, max tokens and usage (cache reads and writes included) translated', async () => {
    const before = rig.bedrock.verified
    const { data, response } = await openai.chat.completions.create({
      model: MODEL, max_tokens: 100, temperature: 0.5, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }],
    }).withResponse()
    expect(data.choices[0]!.message.content).toBe('Hello from the mock Bedrock upstream.')
    expect(data.choices[0]!.finish_reason).toBe('stop')
    expect(response.headers.get('x-sluice-provider')).toBe('bedrock')
    expect(rig.bedrock.verified).toBe(before + 1)
    const request = sent()
    expect(request.path).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse')
    expect(request.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS.accessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request`))
    expect(request.headers['x-amz-security-token']).toBe(AWS.sessionToken)
    expect(request.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Hello' }] }],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { maxTokens: 100, temperature: 0.5 },
    })
    const { inputTokens, read, write } = mockUsage()
    expect(data.usage).toMatchObject({ prompt_tokens: inputTokens + read + write, prompt_tokens_details: { cached_tokens: read } })
    expect(data.usage!.completion_tokens).toBeGreaterThan(0)
  })

  it('stream: the binary event stream arrives as chat chunks, with usage when asked for', async () => {
    const stream = await openai.chat.completions.create({ model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] })
    let text = ''
    let usage: OpenAI.CompletionUsage | undefined
    let finish: string | null | undefined
    let chunks = 0
    for await (const chunk of stream) {
      chunks++
      text += chunk.choices[0]?.delta?.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      if (chunk.usage) usage = chunk.usage
    }
    expect(text).toBe('Hello from the mock Bedrock upstream.')
    expect(chunks).toBeGreaterThan(3)
    expect(finish).toBe('stop')
    expect(sent().path).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream')
    const { inputTokens, read, write } = mockUsage()
    expect(usage).toMatchObject({ prompt_tokens: inputTokens + read + write, prompt_tokens_details: { cached_tokens: read } })
  })

  it('tools, non-stream: toolUse becomes tool_calls; the result goes back as a toolResult', async () => {
    const first = await openai.chat.completions.create({ model: MODEL, tools: OPENAI_TOOLS, tool_choice: 'required', messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] })
    expect(sent().body.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', description: 'Weather in a city', inputSchema: { json: (OPENAI_TOOLS[0] as OpenAI.ChatCompletionFunctionTool).function.parameters } } }],
      toolChoice: { any: {} },
    })
    expect(first.choices[0]!.finish_reason).toBe('tool_calls')
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall
    expect(call.function.name).toBe('get_weather')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
    const next = await openai.chat.completions.create({
      model: MODEL, tools: OPENAI_TOOLS,
      messages: [
        { role: 'user', content: 'Weather? MOCK_TOOL' },
        first.choices[0]!.message,
        { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' },
      ],
    })
    expect(next.choices[0]!.message.content).toBe('The tool said: {"temp":21}')
    expect(sent().body.messages[2]).toEqual({ role: 'user', content: [{ toolResult: { toolUseId: call.id, content: [{ text: '{"temp":21}' }], status: 'success' } }] })
  })

  it('tools, streamed: partial toolUse input deltas are reassembled into the call', async () => {
    const stream = await openai.chat.completions.create({ model: MODEL, stream: true, tools: OPENAI_TOOLS, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] })
    let args = ''
    let name = ''
    let finish: string | null | undefined
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta?.tool_calls?.[0]
      if (call?.function?.name) name = call.function.name
      args += call?.function?.arguments ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(name).toBe('get_weather')
    expect(JSON.parse(args)).toEqual({ city: 'Paris', unit: 'celsius' })
    expect(finish).toBe('tool_calls')
  })

  it('images: a data: URL becomes a Converse image block with its bytes', async () => {
    const reply = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
    })
    expect(reply.choices[0]!.message.content).toBe('I see 1 image(s): png.')
    expect(sent().body.messages[0].content[1]).toEqual({ image: { format: 'png', source: { bytes: PNG } } })
  })

  it('an image by web URL is refused with a 400 naming what Bedrock takes', async () => {
    const error: any = await openai.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
    }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.message).toMatch(/base64 data or s3:\/\//)
  })

  it('an inference-profile ARN is one URL-encoded path segment, and the signature over it verifies', async () => {
    const before = rig.bedrock.verified
    const reply = await openai.chat.completions.create({ model: ARN, messages: [{ role: 'user', content: 'Hello' }] })
    expect(reply.choices[0]!.message.content).toBe('Hello from the mock Bedrock upstream.')
    expect(sent().path).toBe('/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse')
    expect(rig.bedrock.verified).toBe(before + 1)
  })

  it('a ThrottlingException is a 429 in the OpenAI error shape', async () => {
    const error: any = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'MOCK_ERROR_429' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error.error).toMatchObject({ type: 'rate_limit_error', code: 'ThrottlingException' })
  })

  it('a ValidationException before a stream starts is a 400 in the OpenAI error shape', async () => {
    const error: any = await openai.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'MOCK_ERROR_400' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error.error).toMatchObject({ type: 'invalid_request_error', code: 'ValidationException' })
  })

  it('an exception midway through the event stream ends the stream with an error the SDK raises', async () => {
    const stream = await openai.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Hello MOCK_STREAM_EXCEPTION' }] })
    let text = ''
    const error: any = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    })().catch((e) => e)
    expect(text.length).toBeGreaterThan(0)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(String(error.message)).toMatch(/model stream failed midway/)
  })

  it('a client that hangs up midway closes the Bedrock stream at once', async () => {
    const controller = new AbortController()
    const stream = await openai.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Talk MOCK_SLOW' }] }, { signal: controller.signal })
    let chunks = 0
    await (async () => {
      for await (const _chunk of stream) if (++chunks === 3) controller.abort()
    })().catch(() => {})
    await eventually(() => expect(rig.bedrock.streamsCut).toBe(1), 10_000)
  })

  it('GET /v1/models lists the Bedrock model ids under bedrock/', async () => {
    const ids = (await openai.models.list()).data.map((m) => m.id)
    expect(ids).toContain('bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0')
    expect(ids).toContain('bedrock/us.amazon.nova-pro-v1:0')
  })
})

describe('anthropic client → Claude on Bedrock', () => {
  it('text: a message with usage in Anthropic counters (cache reads and writes apart)', async () => {
    const message = await anthropic.messages.create({ model: MODEL, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] })
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock Bedrock upstream.' }])
    expect(message.stop_reason).toBe('end_turn')
    const { inputTokens, read, write } = mockUsage()
    expect(message.usage).toMatchObject({ input_tokens: inputTokens, cache_read_input_tokens: read, cache_creation_input_tokens: write })
  })

  it('stream: finalMessage() from the translated event stream, with the same usage', async () => {
    const message = await anthropic.messages.stream({ model: MODEL, max_tokens: 200, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock Bedrock upstream.' }])
    const { inputTokens, read, write } = mockUsage()
    expect(message.usage).toMatchObject({ input_tokens: inputTokens, cache_read_input_tokens: read, cache_creation_input_tokens: write })
    expect(message.usage.output_tokens).toBeGreaterThan(0)
  })

  it('tools, streamed and not, and the tool_result back as a toolResult', async () => {
    const streamed = await anthropic.messages.stream({ model: MODEL, max_tokens: 200, tools: ANTHROPIC_TOOLS, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] }).finalMessage()
    expect(streamed.stop_reason).toBe('tool_use')
    const use = streamed.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } })
    const plain = await anthropic.messages.create({ model: MODEL, max_tokens: 200, tools: ANTHROPIC_TOOLS, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] })
    expect(plain.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } })
    const next = await anthropic.messages.create({
      model: MODEL, max_tokens: 200, tools: ANTHROPIC_TOOLS,
      messages: [
        { role: 'user', content: 'Weather? MOCK_TOOL' },
        { role: 'assistant', content: streamed.content as any },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] },
      ],
    })
    expect(next.content).toEqual([{ type: 'text', text: 'The tool said: sunny' }])
  })

  it('images: a base64 image block reaches Bedrock as bytes', async () => {
    const message = await anthropic.messages.create({
      model: MODEL, max_tokens: 100,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text: 'What is this?' }] }],
    })
    expect(message.content).toEqual([{ type: 'text', text: 'I see 1 image(s): png.' }])
  })

  it('max_tokens: the stop reason maps back', async () => {
    const message = await anthropic.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'Hello MOCK_MAX_TOKENS' }] })
    expect(message.stop_reason).toBe('max_tokens')
  })
})

describe('AWS credentials the mock refuses', () => {
  const direct = (options: Parameters<typeof bedrock>[0]) => createTestGateway({ plugins: [bedrock({ baseURL: rig.bedrock.url, region: 'us-east-1', ...options })] })

  it('an expired session token: a 502 upstream_auth_failed naming ExpiredTokenException, in each client\'s shape', async () => {
    const gw = await direct({ accessKeyId: AWS.accessKeyId, secretAccessKey: AWS.secretAccessKey, sessionToken: AWS.expiredSessionToken })
    try {
      const chat = await gw.chat({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }] })
      expect(chat.status).toBe(502)
      const body = await chat.json()
      expect(body.error).toMatchObject({ type: 'api_error', code: 'upstream_auth_failed' })
      expect(body.error.message).toMatch(/403 ExpiredTokenException: The security token included in the request is expired/)
      expect(JSON.stringify(body)).not.toContain(AWS.secretAccessKey)
      expect(JSON.stringify(body)).not.toContain(AWS.expiredSessionToken)
      const messages = await gw.messages({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'Hello' }] })
      expect(messages.status).toBe(502)
      expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringMatching(/ExpiredTokenException/) } })
    } finally {
      await gw.close()
    }
  })

  it('a wrong secret: the mock\'s recomputed signature differs (InvalidSignatureException)', async () => {
    const before = rig.bedrock.verified
    const gw = await direct({ accessKeyId: AWS.accessKeyId, secretAccessKey: 'not-the-secret', sessionToken: AWS.sessionToken })
    try {
      const chat = await gw.chat({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }] })
      expect(chat.status).toBe(502)
      expect((await chat.json()).error.message).toMatch(/InvalidSignatureException: The request signature we calculated does not match/)
      expect(rig.bedrock.verified).toBe(before)
    } finally {
      await gw.close()
    }
  })

  it('a credentials function: its answer is used until five minutes before it expires, then asked again', async () => {
    let calls = 0
    let lifetime = 2 * 60_000 // inside the five-minute margin: not worth keeping
    const gw = await createTestGateway({ plugins: [bedrock({ baseURL: rig.bedrock.url, region: 'us-east-1', credentials: async () => {
      calls++
      return { accessKeyId: AWS.accessKeyId, secretAccessKey: AWS.secretAccessKey, sessionToken: AWS.sessionToken, expiration: new Date(Date.now() + lifetime) }
    } })] })
    const ask = () => gw.chat({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }] }).then((r) => r.status)
    try {
      expect(await ask()).toBe(200)
      expect(await ask()).toBe(200)
      expect(calls).toBe(2)
      lifetime = 60 * 60_000
      expect(await ask()).toBe(200)
      expect(calls).toBe(3)
      expect(await Promise.all([ask(), ask(), ask()])).toEqual([200, 200, 200])
      expect(calls).toBe(3)
    } finally {
      await gw.close()
    }
  })

  it('a credentials function that fails: a 502 upstream_auth_failed, nothing sent upstream', async () => {
    const before = rig.bedrock.requests.length
    const gw = await createTestGateway({ plugins: [bedrock({ baseURL: rig.bedrock.url, region: 'us-east-1', credentials: async () => { throw new Error('sso session expired') } })] })
    try {
      const response = await gw.chat({ model: MODEL, messages: [{ role: 'user', content: 'Hello' }] })
      expect(response.status).toBe(502)
      expect((await response.json()).error).toMatchObject({ code: 'upstream_auth_failed' })
      expect(rig.bedrock.requests.length).toBe(before)
    } finally {
      await gw.close()
    }
  })

  it('the options shown by `sluice check` and the dashboard hold no secret', () => {
    const shown = JSON.stringify(bedrock({ region: 'us-east-1', accessKeyId: AWS.accessKeyId, secretAccessKey: AWS.secretAccessKey, sessionToken: AWS.sessionToken }).options)
    expect(shown).not.toContain(AWS.secretAccessKey)
    expect(shown).not.toContain(AWS.sessionToken)
    expect(shown).toContain('us-east-1')
  })

  it('no credentials anywhere: start-up stops naming the variables to set', () => {
    const saved = { ...process.env }
    try {
      delete process.env.AWS_ACCESS_KEY_ID
      expect(() => bedrock({ region: 'us-east-1' })).toThrow(/AWS_ACCESS_KEY_ID/)
      delete process.env.AWS_REGION
      delete process.env.AWS_DEFAULT_REGION
      expect(() => bedrock({ accessKeyId: 'a', secretAccessKey: 'b' })).toThrow(/AWS_REGION/)
    } finally {
      Object.assign(process.env, saved)
    }
  })
})
