/**
 * The Vercel AI SDK 6's default `openai()` provider (the Responses API) through the gateway onto an Anthropic
 * target: generateText, streamText, a tool loop with `stopWhen`, generateObject — unchanged SDK code, only the
 * base URL and a `provider/model` id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importAgentPackage, installed, skipMessage, startStack, type Stack } from './helpers.ts'

const skip = skipMessage('ai-sdk', ['ai', '@ai-sdk/openai', 'zod'].filter((name) => !installed(name)))

const MODEL = 'anthropic/claude-sonnet-4-5'

describe.skipIf(skip)('AI SDK 6 openai() (Responses API) through Sluice onto Anthropic', () => {
  let stack: Stack
  let ai: any
  let z: any
  let model: any
  beforeAll(async () => {
    stack = await startStack()
    ai = await importAgentPackage('ai')
    z = (await importAgentPackage('zod')).z
    const { createOpenAI } = await importAgentPackage('@ai-sdk/openai')
    model = createOpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: 'sk-client-key-for-sluice' })(MODEL)
  })
  afterAll(async () => {
    await stack?.close()
  })

  const anthropicBodies = (from: number) => stack.anthropic.requests.slice(from).map((r) => r.body)

  it('generateText', async () => {
    const before = stack.anthropic.requests.length
    const result = await ai.generateText({ model, prompt: 'Say hello', maxRetries: 0 })
    expect(result.text).toBe('Hello from the mock Anthropic upstream.')
    expect(result.finishReason).toBe('stop')
    expect(result.usage.inputTokens).toBeGreaterThan(0)
    expect(result.usage.outputTokens).toBeGreaterThan(0)
    const [body] = anthropicBodies(before)
    expect(body).toMatchObject({ model: 'claude-sonnet-4-5', stream: false })
    expect(stack.openai.requests.some((r) => r.body?.model === 'claude-sonnet-4-5')).toBe(false)
  })

  it('streamText', async () => {
    const result = ai.streamText({ model, prompt: 'Say hello, streamed', maxRetries: 0 })
    let text = ''
    const parts = new Set<string>()
    for await (const part of result.fullStream) {
      parts.add(part.type)
      if (part.type === 'text-delta') text += part.text
      if (part.type === 'error') throw part.error
    }
    expect(text).toBe('Hello from the mock Anthropic upstream.')
    expect(await result.finishReason).toBe('stop')
    expect((await result.usage).outputTokens).toBeGreaterThan(0)
    expect([...parts]).toEqual(expect.arrayContaining(['text-start', 'text-delta', 'text-end', 'finish']))
    expect(stack.anthropic.requests.at(-1)!.body.stream).toBe(true)
  })

  function weatherTool() {
    return ai.tool({
      description: 'The weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }: { city: string }) => ({ city, tempC: 21 }),
    })
  }
  const toolPrompt = 'What is the weather in Paris?\nMOCK_CALL weather {"city":"Paris"}'

  it('a tool loop with stopWhen (generateText): the call, its result, the answer', async () => {
    const before = stack.anthropic.requests.length
    const result = await ai.generateText({ model, prompt: toolPrompt, tools: { weather: weatherTool() }, stopWhen: ai.stepCountIs(3), maxRetries: 0 })
    expect(result.steps.length).toBe(2)
    expect(result.steps[0].toolCalls.map((c: any) => [c.toolName, c.input])).toEqual([['weather', { city: 'Paris' }]])
    expect(result.steps[0].toolResults.map((r: any) => r.output)).toEqual([{ city: 'Paris', tempC: 21 }])
    expect(result.text).toBe('The tool said: {"city":"Paris","tempC":21}')
    const bodies = anthropicBodies(before)
    expect(bodies.length).toBe(2)
    expect(bodies[1].messages.at(-1).content[0]).toMatchObject({ type: 'tool_result' })
  })

  it('a tool loop with stopWhen (streamText)', async () => {
    const result = ai.streamText({ model, prompt: toolPrompt, tools: { weather: weatherTool() }, stopWhen: ai.stepCountIs(3), maxRetries: 0 })
    for await (const part of result.fullStream) if (part.type === 'error') throw part.error
    expect((await result.steps).length).toBe(2)
    expect(await result.text).toBe('The tool said: {"city":"Paris","tempC":21}')
  })

  it('generateObject', async () => {
    const value = { name: 'Ada', age: 36 }
    const result = await ai.generateObject({
      model, schema: z.object({ name: z.string(), age: z.number() }), prompt: `Invent a person.\nMOCK_JSON ${JSON.stringify(value)}`, maxRetries: 0,
    })
    expect(result.object).toEqual(value)
    // The schema travels as an instruction in Anthropic's system prompt.
    const system = stack.anthropic.requests.at(-1)!.body.system.map((block: any) => block.text).join('\n')
    expect(system).toContain('"age":{"type":"number"}')
  })
})
