/**
 * Google's own SDK, `@google/genai` 3.3, pointed at the gateway's Gemini API (`httpOptions: { baseUrl,
 * apiVersion: 'v1beta' }`): generateContent, generateContentStream, countTokens, a function-call round trip and
 * embedContent onto an OpenAI target (the OpenAI mock, by the router aliases `gemini-2.5-flash` and
 * `gemini-embedding-001`), and generateContent onto an Anthropic target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importAgentPackage, installed, skipMessage, startStack, type Stack } from './helpers.ts'

const skip = skipMessage('google-genai', installed('@google/genai') ? [] : ['@google/genai'])

describe.skipIf(skip)('@google/genai through Sluice (Gemini inbound API)', () => {
  let stack: Stack
  let ai: any
  let genai: any
  beforeAll(async () => {
    stack = await startStack()
    genai = await importAgentPackage('@google/genai')
    ai = new genai.GoogleGenAI({ apiKey: 'sk-client-key-for-sluice', httpOptions: { baseUrl: stack.gateway.url, apiVersion: 'v1beta' } })
  })
  afterAll(async () => {
    await stack?.close()
  })

  const lastOpenAI = () => stack.openai.requests.at(-1)!

  it('generateContent onto OpenAI: system instruction, text, usage', async () => {
    const before = stack.openai.requests.length
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash', contents: 'Say hello', config: { systemInstruction: 'Be terse.', temperature: 0.2, maxOutputTokens: 100 },
    })
    expect(response.text).toBe('echo: Say hello')
    expect(response.candidates[0].finishReason).toBe('STOP')
    expect(response.usageMetadata.promptTokenCount).toBeGreaterThan(0)
    expect(response.usageMetadata.candidatesTokenCount).toBeGreaterThan(0)
    const upstream = stack.openai.requests.slice(before)
    expect(upstream.map((r) => r.path)).toEqual(['/v1/chat/completions'])
    expect(upstream[0]!.body).toMatchObject({ model: 'gpt-4o', max_tokens: 100, temperature: 0.2 })
    expect(upstream[0]!.body.messages[0]).toMatchObject({ role: 'system', content: 'Be terse.' })
    const record = stack.records().at(-1)!
    expect([record.api, record.status, record.provider, record.upstreamModel]).toEqual(['gemini', 200, 'openai', 'gpt-4o'])
  })

  it('generateContentStream onto OpenAI: chunks that add up, the last with finishReason and usage', async () => {
    const stream = await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Say hello, streamed' })
    let text = ''
    const chunks: any[] = []
    for await (const chunk of stream) {
      chunks.push(chunk)
      text += chunk.text ?? ''
    }
    expect(text).toBe('echo: Say hello, streamed')
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.at(-1).candidates[0].finishReason).toBe('STOP')
    expect(chunks.at(-1).usageMetadata.candidatesTokenCount).toBeGreaterThan(0)
    // FAILS on this branch (gateway bug): the upstream is asked `stream: false` with `stream_options:
    // { include_usage: true }`, and the gateway re-streams its whole answer. A Gemini client's stream flag is in
    // the URL (ctx.stream), but the translated body keeps the decoder's `stream: false`
    // (core/formats/gemini.ts:503, used as is by #upstreamBody in core/pipeline.ts:225; core/pipeline.ts:199 then
    // adds stream_options). OpenAI's API refuses stream_options on a non-stream request.
    expect(lastOpenAI().body.stream).toBe(true)
  })

  it('countTokens onto OpenAI (estimated by the gateway: OpenAI has no counter)', async () => {
    const before = stack.openai.requests.length
    const response = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'Count the tokens of this sentence, please.' })
    expect(response.totalTokens).toBeGreaterThan(0)
    expect(stack.openai.requests.length).toBe(before)
    const raw = await fetch(`${stack.gateway.url}/v1beta/models/gemini-2.5-flash:countTokens`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Count the tokens of this sentence, please.' }] }] }),
    })
    expect(raw.headers.get('x-sluice-token-count')).toBe('estimated')
    expect(await raw.json()).toEqual({ totalTokens: response.totalTokens })
  })

  it('a function-call round trip onto OpenAI', async () => {
    const getWeather = {
      name: 'get_weather', description: 'The weather in a city',
      parameters: { type: genai.Type.OBJECT, properties: { city: { type: genai.Type.STRING } }, required: ['city'] },
    }
    const config = { tools: [{ functionDeclarations: [getWeather] }] }
    const contents: any[] = [{ role: 'user', parts: [{ text: 'What is the weather in Paris? [call get_weather {"city":"Paris"}]' }] }]
    const first = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config })
    expect(first.functionCalls.map((c: any) => [c.name, c.args])).toEqual([['get_weather', { city: 'Paris' }]])
    expect(lastOpenAI().body.tools[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } })
    contents.push(first.candidates[0].content)
    contents.push({ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { tempC: 21 } } }] })
    const second = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config })
    expect(second.functionCalls ?? []).toEqual([])
    expect(second.text).toMatch(/^Tool get_weather returned: .*21/)
    const messages = lastOpenAI().body.messages
    const call = messages.find((m: any) => m.role === 'assistant').tool_calls[0]
    expect(messages.find((m: any) => m.role === 'tool')).toMatchObject({ tool_call_id: call.id })
  })

  it('embedContent onto OpenAI embeddings (one text, then two)', async () => {
    const one = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'embed me' })
    expect(one.embeddings.length).toBe(1)
    expect(one.embeddings[0].values.length).toBeGreaterThan(0)
    expect(lastOpenAI()).toMatchObject({ path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: ['embed me'] } })
    const two = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['one', 'two'] })
    expect(two.embeddings.map((e: any) => e.values.length > 0)).toEqual([true, true])
  })

  it('generateContent onto Anthropic (translated)', async () => {
    const before = stack.anthropic.requests.length
    const response = await ai.models.generateContent({ model: 'anthropic/claude-sonnet-4-5', contents: 'Say hello', config: { systemInstruction: 'Be terse.' } })
    expect(response.text).toBe('Hello from the mock Anthropic upstream.')
    expect(response.usageMetadata.totalTokenCount).toBeGreaterThan(0)
    const [body] = stack.anthropic.requests.slice(before).map((r) => r.body)
    expect(body).toMatchObject({ model: 'claude-sonnet-4-5', system: [{ type: 'text', text: 'Be terse.' }] })
  })
})
