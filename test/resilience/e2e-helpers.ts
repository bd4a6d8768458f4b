/**
 * The end-to-end resilience setup: two mock OpenAI upstreams (A and B), a port nothing listens on, and a real
 * gateway started from test/configs/resilience-e2e.config.ts, reached through the official `openai` client.
 */
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import OpenAI from 'openai'
import type { RequestRecord } from '../../core/types.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startGatewayFromFile, eventually, type TestGateway } from '../helpers/gateway.ts'

export { eventually }

export interface E2E {
  a: MockOpenAI
  b: MockOpenAI
  gateway: TestGateway
  client: OpenAI
  close(): Promise<void>
}

/** A port that refuses connections: bound once to learn a free number, then closed. */
async function refusedPortURL(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/v1`
}

export async function startE2E(): Promise<E2E> {
  const [a, b, dead] = await Promise.all([startMockOpenAI(), startMockOpenAI(), refusedPortURL()])
  const gateway = await startGatewayFromFile('resilience-e2e.config.ts', { MOCK_A_URL: a.url, MOCK_B_URL: b.url, DEAD_URL: dead })
  // No client-side retries (the gateway's are under test); a client timeout so no test can hang.
  const client = new OpenAI({ apiKey: 'anything', baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 15_000 })
  return {
    a, b, gateway, client,
    async close() {
      await gateway.close()
      await Promise.all([a.close(), b.close()])
    },
  }
}

/** Records the config's test recorder collected (same process: the config is loaded in-process). */
export function records(): RequestRecord[] {
  return ((globalThis as any).__sluiceResilienceRecords ??= [])
}

/** The records of one request, by the gateway's own id (the response's `x-request-id`). */
export function recordsOf(id: string | null | undefined): RequestRecord[] {
  return records().filter((record) => record.id === id)
}

/** How many requests `mock` received for `model` (optionally only those whose last message contains `text`). */
export function callsTo(mock: MockOpenAI, model: string, text?: string): number {
  return mock.requests.filter((r) => r.body?.model === model && (text === undefined || JSON.stringify(r.body.messages).includes(text))).length
}

let pairs = 0
/** A fresh alias with its own two targets (and so its own circuits): `pair-N` → a/pair-N-alpha, b/pair-N-beta. */
export function freshPair(): { alias: string; alpha: string; beta: string } {
  const n = pairs++
  if (n >= 80) throw new Error('resilience-e2e.config.ts defines only 80 pairs: add more there')
  return { alias: `pair-${n}`, alpha: `pair-${n}-alpha`, beta: `pair-${n}-beta` }
}

let nonce = 0
/**
 * A unique tag per request: put in its message (so the mocks' logs show which upstream calls carried it) and sent
 * as the client's correlation id (`x-client-request-id`), which the gateway echoes and records as
 * `clientRequestId`. The gateway keys the record by its own id, the response's `x-request-id`.
 */
export function uniqueTag(label: string): string {
  return `e2e-${label}-${process.pid}-${nonce++}`
}

export interface ChatResult {
  /** The gateway's id for the request (`x-request-id`): the key of its record. */
  id: string
  status: number
  headers: Headers
  text: string
  /** Set when the stream ended with an error event (after a 200). */
  streamError?: { message: string; code?: string | null; type?: string }
}

/** One chat request through the official client; resolves with what the client saw or rejects with its APIError. */
export async function chat(client: OpenAI, model: string, content: string, options: { stream?: boolean; clientId?: string } = {}): Promise<ChatResult> {
  const headers = options.clientId ? { 'x-client-request-id': options.clientId } : undefined
  const messages = [{ role: 'user' as const, content }]
  if (!options.stream) {
    const { data, response } = await client.chat.completions.create({ model, messages }, { headers }).withResponse()
    return { id: response.headers.get('x-request-id')!, status: response.status, headers: response.headers, text: data.choices[0]?.message.content ?? '' }
  }
  const { data: stream, response } = await client.chat.completions.create({ model, messages, stream: true }, { headers }).withResponse()
  let text = ''
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error
    return { id: response.headers.get('x-request-id')!, status: response.status, headers: response.headers, text, streamError: { message: error.message, code: error.code, type: error.type } }
  }
  return { id: response.headers.get('x-request-id')!, status: response.status, headers: response.headers, text }
}

/** The APIError a request fails with (fails the test if it succeeds). */
export async function chatError(client: OpenAI, model: string, content: string, options: { stream?: boolean; clientId?: string } = {}): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    const result = await chat(client, model, content, options)
    throw new Error(`expected an error, got ${result.status} "${result.text}"`)
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error
    throw error
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
