/**
 * responses() through a real gateway server onto real HTTP upstreams: the mock OpenAI's `/v1/responses` passed
 * through (the stored response is OpenAI's own, under OpenAI's id) and the mock Anthropic translated (under the
 * gateway's id). A conversation may change provider from one turn to the next.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'
import { upstreamTexts } from './helpers.ts'

let openaiMock: MockOpenAI
let anthropicMock: MockUpstream
let gateway: TestGateway
let client: OpenAI

beforeAll(async () => {
  openaiMock = await startMockOpenAI()
  anthropicMock = await startMockAnthropic({ text: 'Bonjour from Claude.' })
  gateway = await startGatewayFromFile('responses-upstreams.config.ts', {
    RESPONSES_MOCK_OPENAI_URL: openaiMock.url,
    RESPONSES_MOCK_ANTHROPIC_URL: anthropicMock.url,
  })
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
})

afterAll(async () => {
  await gateway?.close()
  await openaiMock?.close()
  await anthropicMock?.close()
})

const lastOpenAIBody = () => openaiMock.requests.at(-1)!.body
const lastAnthropicBody = () => anthropicMock.requests.at(-1)!.body

describe('onto an OpenAI Responses upstream (passthrough)', () => {
  it("stores OpenAI's response under OpenAI's id and sends the conversation on the next turn", async () => {
    const first = await client.responses.create({ model: 'oai/gpt-test', input: 'Capital of France?' })
    expect(first.id).toMatch(/^resp_mock\d+$/) // the upstream's own object, passed through
    expect(first.output_text).toBe('echo: Capital of France?')
    expect((await client.responses.retrieve(first.id)).output).toEqual(first.output)

    const second = await client.responses.create({ model: 'oai/gpt-test', previous_response_id: first.id, input: 'And Germany?' })
    expect(second.output_text).toBe('echo: And Germany?')
    expect(second.previous_response_id).toBe(first.id) // the upstream's body says null: it never saw the field
    expect(openaiMock.requests.at(-1)!.path).toBe('/v1/responses')
    const body = lastOpenAIBody()
    expect(body.previous_response_id).toBeUndefined()
    expect(body.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Capital of France?' }] },
      first.output[0],
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'And Germany?' }] },
    ])
  })

  it('keeps a passed-through stream from its response.completed event', async () => {
    const stream = client.responses.stream({ model: 'oai/gpt-test', input: 'stream me' })
    const first = await stream.finalResponse()
    expect(first.id).toMatch(/^resp_mock\d+$/)
    const stored = await client.responses.retrieve(first.id)
    expect(stored.output_text).toBe('echo: stream me')
    const second = client.responses.stream({ model: 'oai/gpt-test', previous_response_id: first.id, input: 'again' })
    const seen: Array<string | null | undefined> = []
    for await (const event of second) if ('response' in event) seen.push(event.response.previous_response_id)
    expect(seen).toEqual([first.id, first.id, first.id]) // created, in_progress, completed: each names it
    expect(JSON.stringify(lastOpenAIBody().input)).toContain('echo: stream me')
    expect((await client.responses.retrieve((await second.finalResponse()).id)).previous_response_id).toBe(first.id)
  })
})

describe('onto an Anthropic upstream (translated)', () => {
  it('continues a conversation, streamed and not', async () => {
    const first = await client.responses.create({ model: 'anthropic/claude-test', instructions: 'Answer in French.', input: 'Say hello.' })
    expect(first.output_text).toBe('Bonjour from Claude.')
    expect(first.id).toMatch(/^resp_req_/)

    const stream = client.responses.stream({ model: 'anthropic/claude-test', previous_response_id: first.id, input: 'Once more.' })
    const second = await stream.finalResponse()
    expect(second.output_text).toBe('Bonjour from Claude.')
    expect(second.previous_response_id).toBe(first.id)
    const body = lastAnthropicBody()
    expect(body.system).toBeUndefined() // instructions are not inherited
    expect(upstreamTexts(body)).toEqual(['user: Say hello.', 'assistant: Bonjour from Claude.', 'user: Once more.'])
    expect((await client.responses.retrieve(second.id)).previous_response_id).toBe(first.id)
  })
})

describe('across providers', () => {
  it('a conversation begun on OpenAI continues on Anthropic, and back', async () => {
    const first = await client.responses.create({ model: 'oai/gpt-test', input: 'Hi OpenAI.' })
    const second = await client.responses.create({ model: 'anthropic/claude-test', previous_response_id: first.id, input: 'Hi Claude.' })
    expect(upstreamTexts(lastAnthropicBody())).toEqual(['user: Hi OpenAI.', 'assistant: echo: Hi OpenAI.', 'user: Hi Claude.'])
    await client.responses.create({ model: 'oai/gpt-test', previous_response_id: second.id, input: 'Back to OpenAI.' })
    const texts = JSON.stringify(lastOpenAIBody().input)
    for (const text of ['Hi OpenAI.', 'echo: Hi OpenAI.', 'Hi Claude.', 'Bonjour from Claude.', 'Back to OpenAI.']) expect(texts).toContain(text)
  })
})
