/**
 * Fakes for the resilience tests, run on the real core: a fake clock, provider plugins that play a script of
 * failures (registered through `gw.registerProvider`, as any provider is), and a gateway built by
 * `createTestGateway` whose `request` answers what the client got, the request's record and its context.
 */
import { onTestFinished } from 'vitest'
import { GatewayError, timeoutError } from '../../core/index.ts'
import type { Clock, ProviderRequest, ProviderResponse, RequestContext, RequestRecord, Services, SluicePlugin } from '../../core/index.ts'
import { createTestGateway, type TestGateway } from '../../testing/index.ts'

/** mulberry32: a small seeded PRNG, so "random" tests are repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Time moves only when someone sleeps or `advance`s. `onSleep` runs inside a sleep (e.g. to abort there). */
export class FakeClock implements Clock {
  time = 1_700_000_000_000
  readonly sleeps: number[] = []
  onSleep?: (ms: number) => void
  random: () => number

  constructor(seed = 42) {
    this.random = seeded(seed)
  }

  now = () => this.time

  advance(ms: number): void {
    this.time += ms
  }

  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms)
    this.onSleep?.(ms)
    if (signal?.aborted) throw signal.reason
    this.time += ms
    await Promise.resolve()
    if (signal?.aborted) throw signal.reason
  }
}

/** What a fake provider does on one call. */
export type Step =
  /** Answers (a JSON body, or a complete stream); `latencyMs` moves the fake clock while it "works". */
  | 'ok'
  | { ok: true; latencyMs: number }
  /** Throws an upstream error with this status (and retry-after, and code), as a provider may. */
  | 400 | 404 | 429 | 500 | 502 | 503
  | { status: number; retryAfter?: number; code?: string }
  /** Resolves with a 500 response in the OpenAI error shape, as an HTTP provider does. */
  | 'resolved-500'
  | 'timeout'
  | 'connection'
  /** Never answers; rejects when the client goes away. */
  | 'hang'
  /** Streams: one chunk, then an idle timeout. */
  | 'stall'
  /** Streams: one chunk, then waits until the client goes away. */
  | 'linger'

export interface FakeProvider extends SluicePlugin {
  /** Every request the provider received, in order. */
  readonly calls: ProviderRequest[]
}

const encoder = new TextEncoder()
const sse = (data: unknown) => encoder.encode(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)
const chunk = (model: string, delta: Record<string, unknown>, finish: string | null = null) =>
  sse({ id: 'fake', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }] })

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/** What a successful answer says: who served it (`provider/model`). */
export const answerOf = (provider: string, model: string) => `${provider}/${model}`

async function* streamOf(step: Step, provider: string, request: ProviderRequest): AsyncGenerator<Uint8Array> {
  const model = request.target.model
  yield chunk(model, { role: 'assistant', content: answerOf(provider, model) })
  if (step === 'stall') throw timeoutError('idle', 1000)
  if (step === 'linger') await untilAborted(request.signal)
  yield chunk(model, {}, 'stop')
  yield sse('[DONE]')
}

/**
 * A provider plugin that plays `script`: a list (then its last step forever) or a function of the call number.
 * Speaks OpenAI chat; answers non-stream requests with a JSON body and stream requests with SSE bytes.
 */
export function fakeProvider(name: string, script: Step[] | ((call: number, request: ProviderRequest) => Step), clock?: FakeClock): FakeProvider {
  const calls: ProviderRequest[] = []
  const stepFor = (n: number, request: ProviderRequest): Step =>
    typeof script === 'function' ? script(n, request) : script[Math.min(n - 1, script.length - 1)]!

  async function call(request: ProviderRequest): Promise<ProviderResponse> {
    calls.push(request)
    const step = stepFor(calls.length, request)
    const headers = new Headers({ 'content-type': request.stream ? 'text/event-stream' : 'application/json' })
    if (step === 'ok' || step === 'stall' || step === 'linger' || (typeof step === 'object' && 'ok' in step)) {
      if (typeof step === 'object') clock?.advance(step.latencyMs)
      if (request.stream) return { status: 200, headers, format: 'openai-chat', stream: streamOf(step, name, request) }
      const model = request.target.model
      const body = {
        id: 'fake', object: 'chat.completion', created: 0, model,
        choices: [{ index: 0, message: { role: 'assistant', content: answerOf(name, model) }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      }
      return { status: 200, headers, format: 'openai-chat', body, text: JSON.stringify(body) }
    }
    if (step === 'timeout') throw timeoutError('firstByte', 1000)
    if (step === 'connection') throw new GatewayError(502, 'could not reach the upstream provider', { type: 'api_error', code: 'connection_error', upstream: true })
    if (step === 'hang') return untilAborted(request.signal)
    if (step === 'resolved-500') {
      const body = { error: { message: 'boom', type: 'server_error', code: null } }
      return { status: 500, headers: new Headers({ 'content-type': 'application/json' }), format: 'openai-chat', body, text: JSON.stringify(body) }
    }
    const { status, retryAfter, code } = typeof step === 'number' ? { status: step, retryAfter: undefined, code: undefined } : step
    throw new GatewayError(status, `upstream answered ${status}`, { upstream: true, retryAfter, code })
  }

  const plugin: SluicePlugin = {
    name: `fake-${name}`,
    setup(gw) {
      gw.registerProvider({ name, formats: ['openai-chat'], call })
    },
  }
  // Not enumerable: a plugin object is strict, and `calls` is the test's, not the gateway's.
  return Object.defineProperty(plugin, 'calls', { value: calls, enumerable: false }) as FakeProvider
}

/** Turns the event loop until `done` holds (bounded by turns, not time). */
export async function turnsUntil(done: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((resolve) => setImmediate(resolve))
  if (!done()) throw new Error(`not reached within ${turns} turns of the event loop`)
}

/** What one request came to: what the client got, the request's record and its context. */
export interface Outcome {
  status: number
  headers: Headers
  /** The body as the client read it: JSON text, or the SSE text of a stream. */
  text: string
  /** The `provider/model` that answered a 200, from x-sluice-provider / x-sluice-model. */
  servedBy?: string
  /** x-sluice-attempts. */
  attempts: number
  /** The error of an error response (`{ message, type, code }`). */
  error?: { message: string; type?: string; code?: string | null }
  record: RequestRecord
  /** The request's context, as the `record` hooks saw it (plan, state). */
  ctx: RequestContext
}

export interface RequestOptions {
  stream?: boolean
  /** The client's connection: aborting it is the client going away. */
  signal?: AbortSignal
  /** Streams: read the first chunk, then go away (abort and cancel the body). */
  leaveAfterFirstChunk?: boolean
}

export interface ResilienceGateway {
  readonly gateway: TestGateway
  readonly clock: FakeClock
  request(model: string, options?: RequestOptions): Promise<Outcome>
  /** The breaker's service, when one is configured. */
  breakers(): Services['breakers']
  close(): Promise<void>
}

/**
 * The real core (`createTestGateway`) with `plugins`, on the fake clock. A small observer plugin keeps each
 * request's context, so tests can read the plan and the plugins' state the way a `record` hook would. Closed
 * when the test ends.
 */
export async function resilienceGateway(plugins: SluicePlugin[], clock = new FakeClock()): Promise<ResilienceGateway> {
  const contexts = new Map<string, RequestContext>()
  const observer: SluicePlugin = { name: 'test-contexts', hooks: { record: (record, ctx) => void contexts.set(record.id, ctx) } }
  const gateway = await createTestGateway({ plugins: [...plugins, observer] }, { clock })
  onTestFinished(() => gateway.close())

  async function request(model: string, options: RequestOptions = {}): Promise<Outcome> {
    const leave = options.leaveAfterFirstChunk ? new AbortController() : undefined
    const response = await gateway.fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...(options.stream ? { stream: true } : {}) }),
      signal: leave?.signal ?? options.signal,
    })
    let text: string
    if (leave) {
      const reader = response.body!.getReader()
      text = new TextDecoder().decode((await reader.read()).value)
      leave.abort(new DOMException('the client went away', 'AbortError'))
      await reader.cancel()
    } else {
      text = await response.text()
    }
    const id = response.headers.get('x-request-id')!
    await turnsUntil(() => gateway.records.some((r) => r.id === id))
    const record = gateway.records.find((r) => r.id === id)!
    const provider = response.headers.get('x-sluice-provider')
    const isJson = response.headers.get('content-type')?.startsWith('application/json')
    return {
      status: response.status,
      headers: response.headers,
      text,
      servedBy: response.status === 200 && provider ? `${provider}/${response.headers.get('x-sluice-model')}` : undefined,
      attempts: Number(response.headers.get('x-sluice-attempts')),
      error: response.status >= 400 && isJson ? JSON.parse(text).error : undefined,
      record,
      ctx: contexts.get(id)!,
    }
  }

  return {
    gateway,
    clock,
    request,
    breakers: () => gateway.gateway.host.services.get('breakers') as Services['breakers'],
    close: () => gateway.close(),
  }
}
