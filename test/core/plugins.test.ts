/** A custom plugin, written as a user would in a config file, using the auth, stream and record hooks. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startGatewayFromFile, eventually, type TestGateway } from '../helpers/gateway.ts'
import type { RequestRecord } from '../../core/types.ts'

let gateway: TestGateway
const records = (): RequestRecord[] => (globalThis as any).__sluiceTestRecords
const order = (): string[] => (globalThis as any).__sluiceTestOrder

beforeAll(async () => {
  gateway = await startGatewayFromFile('custom-plugin.config.ts')
})
afterAll(() => gateway?.close())
beforeEach(() => {
  records().length = 0
  order().length = 0
})

const client = (headers: Record<string, string>) => new OpenAI({ apiKey: 'x', baseURL: `${gateway.url}/v1`, maxRetries: 0, defaultHeaders: headers })

describe('a user plugin', () => {
  it('sets the principal in auth and sees the record after the response', async () => {
    const completion = await client({ 'x-tenant': 'acme' }).chat.completions.create({ model: 'echo/e', messages: [{ role: 'user', content: 'hi there' }] })
    expect(completion.choices[0]!.message.content).toBe('hi there')
    await eventually(() => expect(records()).toHaveLength(1))
    expect(records()[0]).toMatchObject({ principalId: 'acme', principalName: 'tenant acme', status: 200, outcome: 'ok', provider: 'echo', upstreamModel: 'e', attempts: 1 })
    expect(records()[0]!.usage).toMatchObject({ inputTokens: 2, outputTokens: 2, estimated: false })
  })

  it('refuses from auth in the OpenAI shape, and the refusal is still recorded', async () => {
    const error = await client({}).chat.completions.create({ model: 'echo/e', messages: [] }).catch((e) => e)
    expect(error.status).toBe(400)
    expect(error.error.message).toBe('x-tenant is required')
    await eventually(() => expect(records()).toHaveLength(1))
    expect(records()[0]).toMatchObject({ status: 400, outcome: 'invalid_request_error', attempts: 0 })
  })

  it('runs hooks by order: enforce "pre" before config order', async () => {
    await client({ 'x-tenant': 't' }).chat.completions.create({ model: 'echo/e', messages: [] })
    expect(order()).toEqual(['gatekeeper:auth', 'tenant-header:auth'])
  })

  it('lets a gate answer by itself: later hooks and the provider are skipped, record still runs', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-teapot': '1' }, body: JSON.stringify({ model: 'echo/e', messages: [] }) })
    expect(response.status).toBe(418)
    expect(await response.text()).toBe('short and stout')
    expect(response.headers.get('x-request-id')).toBeTruthy()
    expect(order()).toEqual(['gatekeeper:auth'])
    await eventually(() => expect(records()).toHaveLength(1))
    expect(records()[0]).toMatchObject({ status: 418, attempts: 0 })
  })

  it('transforms stream events with a per-event transform', async () => {
    const stream = await client({ 'x-tenant': 't', 'x-shout': '1' }).chat.completions.create({ model: 'echo/e', stream: true, messages: [{ role: 'user', content: 'quiet words' }] })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe('QUIET WORDS')
  })

  it('records a client abort of a stream', async () => {
    const controller = new AbortController()
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'x-tenant': 't' }, signal: controller.signal,
      body: JSON.stringify({ model: 'slow/e', stream: true, messages: [{ role: 'user', content: 'w '.repeat(5000) }] }),
    })
    const reader = response.body!.getReader()
    await reader.read()
    controller.abort()
    await eventually(() => expect(records()).toHaveLength(1))
    expect(records()[0]).toMatchObject({ status: 499, outcome: 'client_abort' })
  })
})
