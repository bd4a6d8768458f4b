/**
 * Gemini and Claude on Google Vertex AI from the official `openai` and `@anthropic-ai/sdk` clients, through a
 * gateway whose only credentials are GOOGLE_APPLICATION_CREDENTIALS (a service-account JSON): the access token is
 * obtained from the mock token endpoint with a JWT the mock verifies, and the mock regional endpoint serves
 * generateContent / streamGenerateContent and rawPredict / streamRawPredict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { vertex, vertexOrigin } from '../../plugins/providers/vertex/index.ts'
import { createTestGateway } from '../../testing/index.ts'
import { GOOGLE, startCloudRig, type CloudRig } from './setup.ts'

const GEMINI = 'vertex/gemini-2.5-flash'
const CLAUDE = 'vertex/claude-sonnet-4-5@20250929'
const BASE = `/v1/projects/${GOOGLE.project}/locations/${GOOGLE.region}/publishers`

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

const sent = () => rig.vertex.requests.at(-1)!
const OPENAI_TOOLS: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } } },
]
const ANTHROPIC_TOOLS = [{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }]

describe('Gemini on Vertex', () => {
  it('openai client, non-stream: generateContent on the regional path with the bearer token; usage read', async () => {
    const { data, response } = await openai.chat.completions.create({ model: GEMINI, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }] }).withResponse()
    expect(data.choices[0]!.message.content).toBe('Hello from the mock Gemini upstream.')
    expect(response.headers.get('x-sluice-provider')).toBe('vertex')
    const request = sent()
    expect(request.path).toBe(`${BASE}/google/models/gemini-2.5-flash:generateContent`)
    expect(request.headers.authorization).toBe(`Bearer ${rig.token.issued[0]!.token}`)
    expect(request.body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }] })
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0)
    expect(data.usage!.prompt_tokens_details?.cached_tokens).toBe(5)
  })

  it('openai client, stream: streamGenerateContent?alt=sse, with usage', async () => {
    const stream = await openai.chat.completions.create({ model: GEMINI, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] })
    let text = ''
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? ''
      if (chunk.usage) usage = chunk.usage
    }
    expect(text).toBe('Hello from the mock Gemini upstream.')
    expect(sent().path).toBe(`${BASE}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`)
    expect(usage!.completion_tokens).toBeGreaterThan(0)
  })

  it('openai client, tools: a functionCall becomes tool_calls, and the result goes back', async () => {
    const first = await openai.chat.completions.create({ model: GEMINI, tools: OPENAI_TOOLS, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] })
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall
    expect(first.choices[0]!.finish_reason).toBe('tool_calls')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' })
    const next = await openai.chat.completions.create({
      model: GEMINI, tools: OPENAI_TOOLS,
      messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' }],
    })
    expect(next.choices[0]!.message.content).toBe('The tool said: {"temp":21}')
  })

  it('anthropic client, stream and tools: translated both ways', async () => {
    const message = await anthropic.messages.stream({ model: GEMINI, max_tokens: 200, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock Gemini upstream.' }])
    expect(message.usage.cache_read_input_tokens).toBe(5)
    const tools = await anthropic.messages.stream({ model: GEMINI, max_tokens: 200, tools: ANTHROPIC_TOOLS, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] }).finalMessage()
    expect(tools.stop_reason).toBe('tool_use')
    expect(tools.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } })
  })
})

describe('Claude on Vertex', () => {
  it('anthropic client, non-stream: rawPredict with anthropic_version and no model; the answer as Anthropic gave it', async () => {
    const message = await anthropic.messages.create({ model: CLAUDE, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello' }] })
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock Anthropic upstream.' }])
    const request = sent()
    expect(request.path).toBe(`${BASE}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`)
    expect(request.body.anthropic_version).toBe('vertex-2023-10-16')
    expect(request.body).not.toHaveProperty('model')
    expect(request.headers.authorization).toMatch(/^Bearer ya29\.mock-/)
    expect(message.usage).toMatchObject({ cache_read_input_tokens: 10 })
    expect(message.usage.input_tokens).toBeGreaterThan(0)
  })

  it('an Anthropic client\'s anthropic-beta goes along with its body (and only then)', async () => {
    await anthropic.messages.create({ model: CLAUDE, max_tokens: 20, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } })
    expect(sent().headers['anthropic-beta']).toBe('context-1m-2025-08-07')
    await openai.chat.completions.create({ model: CLAUDE, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } })
    expect(sent().headers['anthropic-beta']).toBeUndefined()
  })

  it('anthropic client, stream: streamRawPredict; finalMessage() and usage', async () => {
    const message = await anthropic.messages.stream({ model: CLAUDE, max_tokens: 200, messages: [{ role: 'user', content: 'Hello' }] }).finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the mock Anthropic upstream.' }])
    expect(sent().path).toBe(`${BASE}/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`)
    expect(sent().body.stream).toBe(true)
    expect(message.usage.output_tokens).toBeGreaterThan(0)
  })

  it('anthropic client, tools streamed and the tool_result back', async () => {
    const first = await anthropic.messages.stream({ model: CLAUDE, max_tokens: 200, tools: ANTHROPIC_TOOLS, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] }).finalMessage()
    const use = first.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } })
    const next = await anthropic.messages.create({
      model: CLAUDE, max_tokens: 200, tools: ANTHROPIC_TOOLS,
      messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }, { role: 'assistant', content: first.content as any }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] }],
    })
    expect((next.content[0] as any).text).toMatch(/The tool said: .*sunny/)
  })

  it('openai client, non-stream and stream: translated to Anthropic Messages for rawPredict, usage back', async () => {
    const reply = await openai.chat.completions.create({ model: CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] })
    expect(reply.choices[0]!.message.content).toBe('Hello from the mock Anthropic upstream.')
    expect(reply.usage).toMatchObject({ prompt_tokens_details: { cached_tokens: 10 } })
    expect(sent().body).toMatchObject({ anthropic_version: 'vertex-2023-10-16', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] })
    const stream = await openai.chat.completions.create({ model: CLAUDE, stream: true, stream_options: { include_usage: true }, tools: OPENAI_TOOLS, messages: [{ role: 'user', content: 'Weather? MOCK_TOOL' }] })
    let args = ''
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) {
      args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? ''
      if (chunk.usage) usage = chunk.usage
    }
    expect(JSON.parse(args)).toEqual({ city: 'Paris', unit: 'celsius' })
    expect(usage!.prompt_tokens).toBeGreaterThan(10)
  })

  it('an upstream 429 comes back as a 429 in the caller\'s shape', async () => {
    const error: any = await anthropic.messages.create({ model: CLAUDE, max_tokens: 10, messages: [{ role: 'user', content: 'MOCK_ERROR_429' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(Anthropic.RateLimitError)
  })
})

describe('Vertex credentials and endpoints', () => {
  it('every request so far used the one token fetched at the first request (the JWT verified by the mock)', () => {
    expect(rig.token.issued).toHaveLength(1)
    expect(rig.token.requests).toHaveLength(1)
    expect(new Set(rig.vertex.requests.map((r) => r.headers.authorization))).toEqual(new Set([`Bearer ${rig.token.issued[0]!.token}`]))
  })

  it('GET /v1/models lists Gemini and Claude under vertex/', async () => {
    const ids = (await openai.models.list()).data.map((m) => m.id)
    expect(ids).toEqual(expect.arrayContaining(['vertex/gemini-2.5-flash', 'vertex/claude-sonnet-4-5@20250929']))
  })

  it('inline credentials work as the file does', async () => {
    const before = rig.token.issued.length
    const gw = await createTestGateway({ plugins: [vertex({ credentials: rig.serviceAccount.json as any, project: GOOGLE.project, region: GOOGLE.region, baseURL: rig.vertex.url, tokenURL: `${rig.token.url}/token` })] })
    try {
      const response = await gw.chat({ model: GEMINI, messages: [{ role: 'user', content: 'Hello' }] })
      expect(response.status).toBe(200)
      expect(rig.token.issued.length).toBe(before + 1)
    } finally {
      await gw.close()
    }
  })

  it('a missing key file: a 502 upstream_auth_failed that names no path or secret', async () => {
    const gw = await createTestGateway({ plugins: [vertex({ keyFile: '/nonexistent/sa.json', project: GOOGLE.project, baseURL: rig.vertex.url })] })
    try {
      const response = await gw.chat({ model: GEMINI, messages: [{ role: 'user', content: 'Hello' }] })
      expect(response.status).toBe(502)
      const body = await response.json()
      expect(body.error).toMatchObject({ code: 'upstream_auth_failed' })
      expect(JSON.stringify(body)).not.toContain('/nonexistent')
    } finally {
      await gw.close()
    }
  })

  it('a service account the token endpoint refuses is the operator\'s problem: 502 upstream_auth_failed', async () => {
    // Another service account's key: the token mock refuses its JWT signature.
    const { makeServiceAccount } = await import('./setup.ts')
    const { mkdtempSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const stranger = makeServiceAccount(mkdtempSync(join(tmpdir(), 'sluice-stranger-')))
    const gw = await createTestGateway({ plugins: [vertex({ credentials: stranger.json as any, project: GOOGLE.project, region: GOOGLE.region, baseURL: rig.vertex.url, tokenURL: `${rig.token.url}/token` })] })
    try {
      const response = await gw.messages({ model: CLAUDE, max_tokens: 10, messages: [{ role: 'user', content: 'Hello' }] })
      expect(response.status).toBe(502)
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } })
    } finally {
      await gw.close()
    }
  })

  it('a token Vertex refuses before its expiry (revoked): that request is a 502, the next one gets a new token', async () => {
    await openai.chat.completions.create({ model: GEMINI, messages: [{ role: 'user', content: 'Hello' }] })
    const held = String(sent().headers.authorization).replace(/^Bearer /, '')
    const before = rig.token.issued.length
    rig.token.revoke(held)
    const refused = await openai.chat.completions.create({ model: GEMINI, messages: [{ role: 'user', content: 'Hello' }] }).catch((e) => e)
    expect(refused).toBeInstanceOf(OpenAI.APIError)
    expect(refused.status).toBe(502)
    expect(refused.error).toMatchObject({ code: 'upstream_auth_failed' })
    const reply = await openai.chat.completions.create({ model: GEMINI, messages: [{ role: 'user', content: 'Hello' }] })
    expect(reply.choices[0]!.message.content).toBe('Hello from the mock Gemini upstream.')
    expect(rig.token.issued.length).toBe(before + 1)
    expect(sent().headers.authorization).toBe(`Bearer ${rig.token.issued.at(-1)!.token}`)
    expect(sent().headers.authorization).not.toBe(`Bearer ${held}`)
  })

  it('the options shown by `sluice check` and the dashboard hold no key', () => {
    const shown = JSON.stringify(vertex({ credentials: rig.serviceAccount.json as any, project: GOOGLE.project }).options)
    expect(shown).not.toContain('PRIVATE KEY')
    expect(shown).toContain(GOOGLE.clientEmail)
  })

  it('the endpoint origin follows the region; `global` has no regional prefix', () => {
    expect(vertexOrigin('us-central1')).toBe('https://us-central1-aiplatform.googleapis.com')
    expect(vertexOrigin('europe-west4')).toBe('https://europe-west4-aiplatform.googleapis.com')
    expect(vertexOrigin('global')).toBe('https://aiplatform.googleapis.com')
  })
})
