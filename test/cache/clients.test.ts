/**
 * The cache with the official clients over the mock upstreams: a repeated request is answered from the cache
 * (the upstream saw one call), in any client's format, streamed or not, with the usage of the original answer;
 * records of hits say `cached`, cost nothing and carry what they saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsWith, openaiCounts, priceOf, recordOf, startRig, uniquePrompt, type CacheRig } from './helpers.ts'

let rig: CacheRig
beforeAll(async () => { rig = await startRig() })
afterAll(() => rig?.close())

const user = (content: string) => [{ role: 'user' as const, content }]

describe('a repeated request is a hit', () => {
  it('OpenAI client: the second identical request is served from the cache; the upstream saw one call', async () => {
    const prompt = uniquePrompt('capital of France')
    const ask = () => rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }).withResponse()

    const first = await ask()
    const second = await ask()

    expect(first.response.headers.get('x-sluice-cache')).toBe('miss')
    expect(second.response.headers.get('x-sluice-cache')).toBe('hit')
    expect(second.response.headers.get('age')).toBe('0')
    expect(second.response.headers.get('x-sluice-provider')).toBe('openai')
    expect(second.response.headers.get('x-sluice-model')).toBe('gpt-4o-mini')
    expect(second.response.headers.get('x-sluice-attempts')).toBe('0')
    expect(second.data.choices[0]!.message.content).toBe(`echo: ${prompt}`)
    expect(second.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content)
    expect(second.data.usage).toMatchObject({ prompt_tokens: first.data.usage!.prompt_tokens, completion_tokens: first.data.usage!.completion_tokens })
    expect(second.data.id).not.toBe(first.data.id)
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })

  it('records: the hit says cached, costs 0 and carries the cost the miss paid as savedUSD', async () => {
    const prompt = uniquePrompt('records')
    const ask = () => rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }).withResponse()
    const first = await ask()
    const second = await ask()
    const miss = await recordOf(rig.gw, first.response)
    const hit = await recordOf(rig.gw, second.response)

    expect(miss.cached).toBeUndefined()
    expect(miss.costUSD).toBeCloseTo(priceOf(miss.usage), 12)
    expect(miss.costUSD).toBeGreaterThan(0)
    expect(hit).toMatchObject({ cached: true, costUSD: 0, provider: 'openai', upstreamModel: 'gpt-4o-mini', attempts: 0, status: 200, outcome: 'ok' })
    expect(hit.savedUSD).toBeCloseTo(miss.costUSD!, 12)
    expect(hit.usage).toMatchObject({ inputTokens: miss.usage.inputTokens, outputTokens: miss.usage.outputTokens })
  })

  it('Anthropic client onto Anthropic: the second identical message is a hit', async () => {
    const prompt = uniquePrompt('hello claude')
    const ask = () => rig.claude.messages.create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, messages: user(prompt) }).withResponse()
    const first = await ask()
    const second = await ask()
    expect(first.response.headers.get('x-sluice-cache')).toBe('miss')
    expect(second.response.headers.get('x-sluice-cache')).toBe('hit')
    expect(second.data.content).toEqual(first.data.content)
    expect(second.data.usage).toMatchObject({ input_tokens: first.data.usage.input_tokens, output_tokens: first.data.usage.output_tokens })
    expect(second.data.stop_reason).toBe(first.data.stop_reason)
    expect(callsWith(rig.anthropicMock, prompt)).toBe(1)
  })

  it('one entry serves every client format: an answer stored for an OpenAI client serves an Anthropic client', async () => {
    const prompt = uniquePrompt('shared across formats')
    const viaOpenAI = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', max_tokens: 64, messages: user(prompt) })
    const { data, response } = await rig.claude.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 64, messages: user(prompt) }).withResponse()
    expect(response.headers.get('x-sluice-cache')).toBe('hit')
    expect(data.content).toMatchObject([{ type: 'text', text: viaOpenAI.choices[0]!.message.content }])
    expect(data.usage).toMatchObject({ input_tokens: viaOpenAI.usage!.prompt_tokens, output_tokens: viaOpenAI.usage!.completion_tokens })
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })

  it('a different question, model or answer-changing parameter is a different entry', async () => {
    const prompt = uniquePrompt('keyed')
    const ask = (model: string, extra: Record<string, unknown> = {}) =>
      rig.openai.chat.completions.create({ model, temperature: 0, messages: user(prompt), ...extra }).withResponse()
    await ask('openai/gpt-4o-mini')
    expect((await ask('openai/gpt-4o')).response.headers.get('x-sluice-cache')).toBe('miss')
    expect((await ask('openai/gpt-4o-mini', { max_tokens: 12 })).response.headers.get('x-sluice-cache')).toBe('miss')
    expect((await ask('openai/gpt-4o-mini', { stop: ['x'] })).response.headers.get('x-sluice-cache')).toBe('miss')
    expect((await ask('openai/gpt-4o-mini', { seed: 7 })).response.headers.get('x-sluice-cache')).toBe('miss')
    // ...while the client's end-user id and stream flag do not change the answer
    expect((await ask('openai/gpt-4o-mini', { user: 'someone-else' })).response.headers.get('x-sluice-cache')).toBe('hit')
    expect(callsWith(rig.openaiMock, prompt)).toBe(5)
  })
})

describe('the Responses API', () => {
  it('OpenAI Responses client: the second identical request is a hit, whole and streamed', async () => {
    const prompt = uniquePrompt('responses api')
    const ask = () => rig.openai.responses.create({ model: 'openai/gpt-4o-mini', temperature: 0, store: false, input: prompt }).withResponse()
    const first = await ask()
    const second = await ask()
    expect([first.response.headers.get('x-sluice-cache'), second.response.headers.get('x-sluice-cache')]).toEqual(['miss', 'hit'])
    expect(second.data.output_text).toBe(first.data.output_text)
    expect(second.data.output_text).toBe(`echo: ${prompt}`)
    expect(second.data.usage).toMatchObject({ input_tokens: first.data.usage!.input_tokens, output_tokens: first.data.usage!.output_tokens })

    const streamed = rig.openai.responses.stream({ model: 'openai/gpt-4o-mini', temperature: 0, store: false, input: prompt })
    const final = await streamed.finalResponse()
    expect(final.output_text).toBe(first.data.output_text)
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })
})

describe('streams', () => {
  it('OpenAI client: a stream replay gives the same text and usage; the upstream saw one call', async () => {
    const prompt = uniquePrompt('stream me')
    const ask = async () => {
      const { data: stream, response } = await rig.openai.chat.completions
        .create({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, stream_options: { include_usage: true }, messages: user(prompt) })
        .withResponse()
      let text = ''
      let usage: unknown
      let finish: string | null | undefined
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? ''
        finish = chunk.choices[0]?.finish_reason ?? finish
        if (chunk.usage) usage = chunk.usage
      }
      return { text, usage, finish, cache: response.headers.get('x-sluice-cache') }
    }
    const first = await ask()
    const second = await ask()
    expect(first).toMatchObject({ cache: 'miss', text: `echo: ${prompt}`, finish: 'stop' })
    expect(second).toMatchObject({ cache: 'hit', text: first.text, finish: 'stop' })
    expect(openaiCounts(second.usage)).toEqual(openaiCounts(first.usage))
    expect(first.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) })
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })

  it('Anthropic client: a stream replay gives the same text and usage', async () => {
    const prompt = uniquePrompt('stream claude')
    const ask = async () => {
      const stream = rig.claude.messages.stream({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, messages: user(prompt) })
      const message = await stream.finalMessage()
      return { message, cache: (await stream.withResponse()).response.headers.get('x-sluice-cache') }
    }
    const first = await ask()
    const second = await ask()
    expect(first.cache).toBe('miss')
    expect(second.cache).toBe('hit')
    expect(second.message.content).toEqual(first.message.content)
    expect(second.message.usage).toMatchObject({ input_tokens: first.message.usage.input_tokens, output_tokens: first.message.usage.output_tokens })
    expect(callsWith(rig.anthropicMock, prompt)).toBe(1)
  })

  it('a streamed answer serves a non-stream request, and a whole answer serves a stream', async () => {
    const streamedFirst = uniquePrompt('streamed first')
    const stream = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, messages: user(streamedFirst) })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    const whole = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(streamedFirst) }).withResponse()
    expect(whole.response.headers.get('x-sluice-cache')).toBe('hit')
    expect(whole.data.choices[0]!.message.content).toBe(text)
    expect(callsWith(rig.openaiMock, streamedFirst)).toBe(1)

    const wholeFirst = uniquePrompt('whole first')
    const answer = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(wholeFirst) })
    const replay = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, messages: user(wholeFirst) }).withResponse()
    let replayed = ''
    for await (const chunk of replay.data) replayed += chunk.choices[0]?.delta?.content ?? ''
    expect(replay.response.headers.get('x-sluice-cache')).toBe('hit')
    expect(replayed).toBe(answer.choices[0]!.message.content)
    expect(callsWith(rig.openaiMock, wholeFirst)).toBe(1)
  })

  it('tool calls are stored and replayed, streamed and not', async () => {
    const prompt = uniquePrompt('weather [tools]')
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }]
    const streamed = rig.openai.chat.completions.stream({ model: 'openai/gpt-4o-mini', temperature: 0, tools, messages: user(prompt) })
    const first = await streamed.finalChatCompletion()
    const second = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, tools, messages: user(prompt) }).withResponse()
    expect(second.response.headers.get('x-sluice-cache')).toBe('hit')
    expect(second.data.choices[0]!.finish_reason).toBe('tool_calls')
    const calls = (message: any) => message.tool_calls.map((c: any) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }))
    expect(calls(second.data.choices[0]!.message)).toEqual(calls(first.choices[0]!.message))
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })
})
