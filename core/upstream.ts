/**
 * The HTTP client provider plugins use to reach an upstream: ofetch over undici with one pooled keep-alive
 * Agent per provider, and per-request deadlines for connect, first byte, idle gap between chunks and total.
 *
 * Streams resolve only once the first body chunk arrived, so a stall before the first byte is a timeout the
 * `call` hooks can still retry; afterwards the body is handed on chunk by chunk, never buffered.
 */
import { Agent, fetch as undiciFetch } from 'undici'
import { ofetch } from 'ofetch'
import { GatewayError } from './errors.ts'
import type { ProviderResponse, Timeouts } from './types.ts'
import type { WireFormat } from './formats/types.ts'

export const DEFAULT_TIMEOUTS: Required<Timeouts> = {
  connect: 10_000,
  firstByte: 120_000,
  idle: 60_000,
  total: 600_000,
}

export interface UpstreamClientOptions {
  baseURL: string
  /** Headers sent with every request (auth). Never logged. */
  headers?: Record<string, string>
  timeouts?: Timeouts
  /** Max sockets per upstream origin. */
  connections?: number
}

export interface UpstreamRequest {
  path: string
  body: unknown
  format: WireFormat
  stream: boolean
  signal: AbortSignal
  timeouts?: Timeouts
  headers?: Record<string, string>
  query?: Record<string, string>
}

class DeadlineError extends Error {
  constructor(readonly kind: keyof Timeouts, readonly ms: number) {
    super(`upstream ${kind === 'firstByte' ? 'first byte' : kind} timeout after ${ms} ms`)
    this.name = 'TimeoutError'
  }
}

export function timeoutError(kind: keyof Timeouts, ms: number): GatewayError {
  return new GatewayError(504, new DeadlineError(kind, ms).message, { type: 'timeout_error', code: `${kind === 'firstByte' ? 'first_byte' : kind}_timeout`, upstream: true })
}

/** Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date); undefined when absent. */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms')
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms) / 1000)
  const value = headers.get('retry-after')
  if (!value) return undefined
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000)
}

function connectionError(error: unknown): GatewayError {
  let cause: any = error
  while (cause?.cause && cause !== cause.cause) cause = cause.cause
  const code = cause?.code as string | undefined
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return timeoutError('connect', 0)
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return timeoutError(code === 'UND_ERR_HEADERS_TIMEOUT' ? 'firstByte' : 'idle', 0)
  return new GatewayError(502, 'could not reach the upstream provider', { type: 'api_error', code: 'connection_error', upstream: true, cause: error })
}

/** One deadline controller per request: the total deadline plus a resettable first-byte/idle timer. */
class Deadlines {
  readonly controller = new AbortController()
  readonly signal: AbortSignal
  #timer: ReturnType<typeof setTimeout> | undefined
  #total: ReturnType<typeof setTimeout> | undefined
  #phase: 'firstByte' | 'idle' = 'firstByte'

  constructor(readonly timeouts: Required<Timeouts>, client: AbortSignal) {
    this.signal = AbortSignal.any([client, this.controller.signal])
    this.#total = setTimeout(() => this.#expire('total'), timeouts.total)
    this.#timer = setTimeout(() => this.#expire(this.#phase), timeouts.firstByte)
  }

  #expire(kind: keyof Timeouts) {
    this.controller.abort(new DeadlineError(kind, this.timeouts[kind]))
  }

  /** A chunk arrived: the idle clock restarts. */
  touch() {
    if (this.#phase === 'firstByte') {
      this.#phase = 'idle'
      clearTimeout(this.#timer)
      this.#timer = setTimeout(() => this.#expire('idle'), this.timeouts.idle)
    } else {
      this.#timer?.refresh()
    }
  }

  clear() {
    clearTimeout(this.#timer)
    clearTimeout(this.#total)
  }

  /** Turns an abort into the right error: a deadline becomes 504, a client abort stays an AbortError. */
  explain(error: unknown): unknown {
    const reason = this.controller.signal.reason
    if (this.controller.signal.aborted && reason instanceof DeadlineError) return timeoutError(reason.kind, reason.ms)
    if (this.signal.aborted) return this.signal.reason ?? error
    return error
  }
}

export function createUpstreamClient(options: UpstreamClientOptions) {
  const defaults = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
  const agent = new Agent({
    connections: options.connections ?? 256,
    keepAliveTimeout: 30_000,
    connectTimeout: defaults.connect,
    // Our own timers enforce first-byte and idle deadlines per request; these are only a backstop.
    headersTimeout: 0,
    bodyTimeout: 0,
  })
  const $fetch = ofetch.create({ retry: 0, ignoreResponseError: true }, { fetch: undiciFetch as unknown as typeof fetch })
  const baseURL = options.baseURL.replace(/\/+$/, '')

  async function request(req: UpstreamRequest): Promise<ProviderResponse> {
    const timeouts = { ...defaults, ...req.timeouts }
    const deadlines = new Deadlines(timeouts, req.signal)
    let response: Response
    try {
      response = await $fetch.raw(baseURL + req.path, {
        method: 'POST',
        body: req.body as Record<string, unknown>,
        query: req.query,
        headers: { ...options.headers, ...req.headers, accept: req.stream ? 'text/event-stream' : 'application/json' },
        signal: deadlines.signal,
        responseType: 'stream',
        dispatcher: agent,
      } as any)
    } catch (error) {
      deadlines.clear()
      const explained = deadlines.explain(error)
      throw explained === error ? connectionError(error) : explained
    }

    const headers = response.headers
    const body = response.body as ReadableStream<Uint8Array> | null
    const isEventStream = (headers.get('content-type') ?? '').includes('text/event-stream')

    if (req.stream && response.ok && isEventStream && body) {
      return { status: response.status, headers, format: req.format, stream: await startStream(body, deadlines) }
    }
    // JSON (or an error body): read it whole, under the same deadlines.
    try {
      const text = body ? await readText(body, deadlines) : ''
      deadlines.clear()
      let json: unknown
      try {
        json = text ? JSON.parse(text) : undefined
      } catch {
        if (response.ok) throw new GatewayError(502, 'upstream returned invalid JSON', { type: 'api_error', code: 'invalid_upstream_response', upstream: true })
        json = { error: { message: text.slice(0, 500) } }
      }
      return { status: response.status, headers, format: req.format, body: json, text }
    } catch (error) {
      deadlines.clear()
      const explained = deadlines.explain(error)
      throw explained === error && !GatewayError.is(error) ? connectionError(error) : explained
    }
  }

  return {
    request,
    close: () => agent.close(),
  }
}

export type UpstreamClient = ReturnType<typeof createUpstreamClient>

async function readText(body: ReadableStream<Uint8Array>, deadlines: Deadlines): Promise<string> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    deadlines.touch()
    text += decoder.decode(value, { stream: true })
  }
}

/** Waits for the first chunk, then hands the rest on as it arrives (idle and total deadlines still apply). */
async function startStream(body: ReadableStream<Uint8Array>, deadlines: Deadlines): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader()
  let first: ReadableStreamReadResult<Uint8Array>
  try {
    first = await reader.read()
  } catch (error) {
    deadlines.clear()
    const explained = deadlines.explain(error)
    throw explained === error ? connectionError(error) : explained
  }
  deadlines.touch()
  let pending: Uint8Array | undefined = first.done ? undefined : first.value
  let finished = first.done
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(pending)
        pending = undefined
        return
      }
      if (finished) {
        deadlines.clear()
        controller.close()
        return
      }
      try {
        const { done, value } = await reader.read()
        if (done) {
          deadlines.clear()
          controller.close()
          return
        }
        deadlines.touch()
        controller.enqueue(value)
      } catch (error) {
        deadlines.clear()
        const explained = deadlines.explain(error)
        controller.error(explained === error ? connectionError(error) : explained)
      }
    },
    cancel(reason) {
      deadlines.clear()
      deadlines.controller.abort(reason)
      return reader.cancel(reason).catch(() => {})
    },
  }, { highWaterMark: 0 })
}
