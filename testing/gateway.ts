/**
 * An in-process gateway built from a config, for testing plugins end to end without a port: `fetch` serves a
 * web Request (hand it to an official SDK as its `fetch`), `chat`/`messages` post a body, and `records` holds
 * every finished request's final record.
 *
 *   const gw = await createTestGateway({ plugins: [scriptedProvider({ name: 'mock' }), myPlugin()] })
 *   const res = await gw.chat({ model: 'mock/model', messages: [{ role: 'user', content: 'hi' }] })
 *   const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'test', fetch: gw.fetch })
 */
import { createConsola } from 'consola'
import { createStorage, type Storage } from 'unstorage'
import { createGateway, definePlugin } from '../core/index.ts'
import type { Clock, Gateway, GatewayConfig, RequestRecord } from '../core/index.ts'

export interface TestGatewayOptions {
  clock?: Clock
  storage?: Storage
}

export interface TestGateway {
  /** The base URL the in-process requests use (no server listens on it). */
  readonly url: string
  readonly gateway: Gateway
  /** Every finished request's record, in the order they finished. */
  readonly records: RequestRecord[]
  /** A `fetch` that the gateway answers in process. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** POST `body` to /v1/chat/completions. */
  chat(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>
  /** POST `body` to /v1/messages. */
  messages(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>
  /** Resolves once `count` records have arrived (records are written just after a response ends). */
  waitForRecords(count: number, timeoutMs?: number): Promise<RequestRecord[]>
  close(): Promise<void>
}

const URL_BASE = 'http://sluice.test'

export async function createTestGateway(config: GatewayConfig, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const records: RequestRecord[] = []
  const recorder = definePlugin(() => ({ name: 'sluice-testing-records', enforce: 'post' as const, hooks: { record: (record: RequestRecord) => void records.push(record) } }))()
  const gateway = await createGateway(
    { logLevel: 'silent', ...config, plugins: [...(config.plugins ?? []), recorder] },
    { clock: options.clock, storage: options.storage ?? createStorage(), logger: createConsola({ level: -999 }) },
  )

  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), URL_BASE), init)
    return gateway.fetch(request)
  }
  const post = (path: string) => (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${URL_BASE}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

  return {
    url: URL_BASE,
    gateway,
    records,
    fetch,
    chat: post('/v1/chat/completions'),
    messages: post('/v1/messages'),
    async waitForRecords(count, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs
      while (records.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} records, got ${records.length}`)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      return records
    },
    close: () => gateway.close(),
  }
}
