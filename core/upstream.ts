/**
 * The HTTP client provider plugins use to reach an upstream: undici's `request` over one pooled keep-alive
 * Agent per provider, with per-request deadlines for connect, first byte, idle gap between chunks and total.
 *
 * Streams resolve only once the first body chunk arrived, so a stall before the first byte is a timeout the
 * `call` hooks can still retry; afterwards the body is handed on chunk by chunk, never buffered.
 *
 * Why not ofetch: in a one-off comparison on this machine (loaded at the time, so indicative only), a sequential
 * POST through ofetch over undici's fetch cost 1.3–2.2 ms against 0.5 ms for `undici.request` on the same Agent,
 * and the gateway's throughput is bound by exactly this per-request CPU. Nothing here needs ofetch's
 * conveniences (retries belong to the retry plugin).
 */
import { EventEmitter } from 'node:events'
import { Agent, request } from 'undici'
import { GatewayError } from './errors.ts'
import { UpstreamResponse } from './upstream-response.ts'
import type { ProviderResponse, RequestContext, Timeouts } from './types.ts'
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
  /** Max sockets per upstream origin; unlimited by default (each open stream holds one; the governor caps concurrency). */
  connections?: number
}

export interface UpstreamRequest {
  path: string
  body: unknown
  format: WireFormat
  stream: boolean
  /**
   * What cancels the request when the client goes away: the request's context (`ctx`, linked without making its
   * AbortSignal) or any AbortSignal.
   */
  signal: AbortSignal | ClientLink
  timeouts?: Timeouts
  headers?: Record<string, string>
  /** Query string parameters (never secrets: those go in headers). */
  query?: Record<string, string>
  method?: 'POST' | 'GET'
  /** The exact body text to send instead of `JSON.stringify(body)` (a signed request must send what it signed). */
  payload?: string
  /** A streamed answer's content type when it is not `text/event-stream` (Bedrock's binary event stream). */
  streamType?: string
}

/** The part of a request's context that says when its client leaves (see `RequestContext.onClientGone`). */
export type ClientLink = Pick<RequestContext, 'onClientGone'>

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

/**
 * What aborts one upstream request. undici takes an EventEmitter as its `signal` (`aborted`, `reason` and an
 * `abort` event); on Node 20 that costs a fraction of an AbortController, whose AbortSignal is an EventTarget
 * (`createAbortSignal` and the EventTarget listener calls were ~5 % of a request's CPU in the minimal pipeline's
 * profile, half of it this controller's).
 */
class UpstreamAbort extends EventEmitter {
  aborted = false
  reason: unknown = undefined

  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.emit('abort')
  }
}

/**
 * One request's deadlines: first byte and total from the start, then idle from the last chunk. One timer per
 * request, armed for the nearest deadline: a chunk only notes the time, and the timer, when it fires, expires the
 * request or re-arms itself for what is left (no timer calls per chunk, one Timeout instead of two).
 * One abort per request, linked to the client's signal (cheaper than AbortSignal.any on Node 20).
 */
class Deadlines {
  readonly controller = new UpstreamAbort()
  #timer: ReturnType<typeof setTimeout> | undefined
  #phase: 'firstByte' | 'idle' = 'firstByte'
  #lastActivity: number
  readonly #totalAt: number
  #unlink: () => void

  constructor(readonly timeouts: Required<Timeouts>, client: AbortSignal | ClientLink) {
    this.#unlink = link(client, this.controller)
    const now = Date.now()
    this.#lastActivity = now
    this.#totalAt = now + timeouts.total
    this.#timer = setTimeout(this.#check, Math.min(timeouts.firstByte, timeouts.total))
  }

  #check = () => {
    const now = Date.now()
    if (now >= this.#totalAt) return this.#expire('total')
    const due = this.#lastActivity + this.timeouts[this.#phase]
    if (now >= due) return this.#expire(this.#phase)
    this.#timer = setTimeout(this.#check, Math.min(due, this.#totalAt) - now)
  }

  #expire(kind: keyof Timeouts) {
    this.controller.abort(new DeadlineError(kind, this.timeouts[kind]))
  }

  /** A chunk arrived: the idle clock restarts. */
  touch() {
    this.#phase = 'idle'
    this.#lastActivity = Date.now()
  }

  clear() {
    clearTimeout(this.#timer)
    this.#unlink()
  }

  /**
   * Names what went wrong: a deadline is a 504, a client abort stays an abort, a network failure a 502. Anything
   * else is the gateway's own fault and stays what it is (never counted against the upstream).
   */
  explain(error: unknown): unknown {
    this.clear()
    if (GatewayError.is(error)) return error
    const reason = this.controller.reason
    if (this.controller.aborted) return reason instanceof DeadlineError ? timeoutError(reason.kind, reason.ms) : reason ?? error
    return isNetworkError(error) ? connectionError(error, this.timeouts) : error
  }
}

/**
 * What a provider passes as `UpstreamRequest.signal`: the request's context when it can say that its client left
 * (no AbortSignal is made then), else the request's signal.
 */
export function clientLinkOf(request: { ctx?: Partial<ClientLink>; signal: AbortSignal }): AbortSignal | ClientLink {
  return typeof request.ctx?.onClientGone === 'function' ? request.ctx as ClientLink : request.signal
}

/** Aborts `controller` when the client goes away; returns the unlink. */
function link(client: AbortSignal | ClientLink, controller: UpstreamAbort): () => void {
  if ('onClientGone' in client) return client.onClientGone(() => controller.abort(new DOMException('the client closed the request', 'AbortError')))
  const onAbort = () => controller.abort(client.reason)
  if (client.aborted) {
    onAbort()
    return () => {}
  }
  client.addEventListener('abort', onAbort, { once: true })
  return () => client.removeEventListener('abort', onAbort)
}

function connectionError(error: unknown, timeouts: Required<Timeouts>): GatewayError {
  let cause: any = error
  while (cause?.cause && cause !== cause.cause && !cause.code) cause = cause.cause
  if (cause?.code === 'UND_ERR_CONNECT_TIMEOUT') return timeoutError('connect', timeouts.connect)
  return new GatewayError(502, 'could not reach the upstream provider', { type: 'api_error', code: 'connection_error', upstream: true, cause: error })
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers()
  for (const name in raw) {
    const value = raw[name]
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else headers.set(name, value)
  }
  return headers
}

/** An error from the network (undici's or the OS's), as opposed to a bug in the gateway's own code. */
function isNetworkError(error: unknown): boolean {
  for (let cause: any = error, depth = 0; cause && depth < 5; cause = cause.cause, depth++) {
    const code = cause.code
    if (typeof code === 'string' && (code.startsWith('UND_ERR') || /^E[A-Z0-9_]+$/.test(code))) return true
    if (cause.name === 'SocketError' || cause.name === 'ConnectTimeoutError') return true
  }
  return false
}

/** Replaces every occurrence of the provider's own credentials in an upstream text (some upstreams echo them). */
function scrubber(secrets: string[]): (text: string) => string {
  const values = secrets.filter((value) => value.length >= 8)
  if (values.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const value of values) if (out.includes(value)) out = out.split(value).join('[redacted]')
    return out
  }
}

export function createUpstreamClient(options: UpstreamClientOptions) {
  const defaults = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
  const agent = new Agent({
    connections: options.connections ?? null,
    keepAliveTimeout: 30_000,
    connect: { timeout: defaults.connect },
    // Our own timers enforce first-byte and idle deadlines per request (they may differ per target).
    headersTimeout: 0,
    bodyTimeout: 0,
  })
  const baseURL = options.baseURL.replace(/\/+$/, '')
  const baseHeaders = { ...options.headers }
  const scrub = scrubber(Object.values(baseHeaders).flatMap((value) => [value, value.replace(/^bearer\s+/i, '')]))

  async function send(req: UpstreamRequest): Promise<ProviderResponse> {
    // Serialised before any timer starts: a body the gateway cannot serialise is its own error, not the upstream's.
    const payload = req.method === 'GET' ? undefined : req.payload ?? JSON.stringify(req.body)
    const timeouts = { ...defaults, ...req.timeouts }
    const deadlines = new Deadlines(timeouts, req.signal)
    const url = req.query ? `${baseURL}${req.path}?${new URLSearchParams(req.query)}` : baseURL + req.path
    let response: Awaited<ReturnType<typeof request>>
    try {
      response = await request(url, {
        method: req.method ?? 'POST',
        body: payload,
        headers: { ...baseHeaders, ...req.headers, 'content-type': 'application/json', accept: req.stream ? req.streamType ?? 'text/event-stream' : 'application/json' },
        signal: deadlines.controller,
        dispatcher: agent,
      })
    } catch (error) {
      throw deadlines.explain(error)
    }

    const raw = response.headers as Record<string, string | string[] | undefined>
    const status = response.statusCode
    const ok = status >= 200 && status < 300
    const contentType = String(raw['content-type'] ?? '')
    const headers = () => toHeaders(raw)
    if (req.stream && ok && (contentType.includes('text/event-stream') || (req.streamType !== undefined && contentType.includes(req.streamType)))) {
      return new UpstreamResponse({ status, headers, format: req.format, stream: await startStream(response.body, deadlines) })
    }
    // JSON (or an error body): read it whole, under the same deadlines.
    let text = ''
    try {
      for await (const chunk of response.body) {
        deadlines.touch()
        text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')
      }
      deadlines.clear()
    } catch (error) {
      throw deadlines.explain(error)
    }
    if (!ok) text = scrub(text)
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      if (ok) throw new GatewayError(502, 'upstream returned invalid JSON', { type: 'api_error', code: 'invalid_upstream_response', upstream: true })
      json = { error: { message: text.slice(0, 500) } }
    }
    return new UpstreamResponse({ status, headers, format: req.format, body: json, text })
  }

  return {
    request: send,
    close: () => agent.close(),
  }
}

export type UpstreamClient = ReturnType<typeof createUpstreamClient>

/** Waits for the first chunk, then hands the rest on as it arrives (idle and total deadlines still apply). */
async function startStream(body: AsyncIterable<Uint8Array>, deadlines: Deadlines): Promise<AsyncIterable<Uint8Array>> {
  const iterator = body[Symbol.asyncIterator]()
  let first: IteratorResult<Uint8Array>
  try {
    first = await iterator.next()
  } catch (error) {
    throw deadlines.explain(error)
  }
  deadlines.touch()
  let pending: Uint8Array | undefined = first.done ? undefined : first.value
  let finished = !!first.done
  if (finished) deadlines.clear()
  const stream: AsyncIterator<Uint8Array> & AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => stream,
    async next() {
      if (pending) {
        const value = pending
        pending = undefined
        return { done: false, value }
      }
      if (finished) return { done: true, value: undefined }
      try {
        const result = await iterator.next()
        if (result.done) {
          finished = true
          deadlines.clear()
        } else {
          deadlines.touch()
        }
        return result
      } catch (error) {
        finished = true
        throw deadlines.explain(error)
      }
    },
    async return() {
      finished = true
      deadlines.clear()
      deadlines.controller.abort(new DOMException('client closed the stream', 'AbortError'))
      await iterator.return?.().catch(() => {})
      return { done: true, value: undefined }
    },
  }
  return stream
}
