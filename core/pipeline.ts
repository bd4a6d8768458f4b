/**
 * The request pipeline: auth → route → limit → call → stream → record.
 *
 * Gates (auth, route, limit) bail on the first GatewayError or `ctx.response`; `call` hooks wrap each upstream
 * attempt onion-style around the provider call; `stream` hooks are asked once per streamed response for a
 * per-event transform; `record` hooks observe each finished request off the hot path.
 */
import type { ConsolaInstance } from 'consola'
import { Readable } from 'node:stream'
import { FastResponse } from 'srvx'
import { GatewayError } from './errors.ts'
import { createContext, newRequestId, recordOf } from './context.ts'
import { readJsonBody } from './body.ts'
import { CLIENT_CLOSED, errorInfo, errorResponse, toGatewayError } from './respond.ts'
import { SSEParser, eventText, sseEvent } from './sse.ts'
import {
  isUsageOnlyChunk, providerFormatFor, setUpstreamModel, streamCompleted, streamErrorFrames, streamUsageReader, translateRequest,
  translateResponse, createStreamTranslator, upstreamErrorInfo, usageFromBody, type SSEFrame, type StreamTranslator,
  type WireFormat,
} from './formats/index.ts'
import { retryAfterSeconds } from './upstream.ts'
import type { PluginHost } from './host.ts'
import type {
  Attempt, CallNext, Clock, GatewayHooks, InboundApi, ProviderResponse, RequestContext, RequestRecord, SSEEvent,
  StreamTransform, Target,
} from './types.ts'

type Hook<N extends keyof GatewayHooks> = GatewayHooks[N]

/** consola's level for `info`. */
const LOG_INFO = 3

/** Runs gate hooks in order and stops at the first that sets `ctx.response` (a throw stops it too). */
function gateCaller(hooks: Hook<'auth'>[], [ctx]: [RequestContext]): void | Promise<void> {
  for (let i = 0; i < hooks.length; i++) {
    const result = hooks[i]!(ctx)
    if (ctx.response) return
    if (result && typeof (result as Promise<void>).then === 'function') {
      return (result as Promise<void>).then(() => (ctx.response ? undefined : gateCaller(hooks.slice(i + 1), [ctx])))
    }
  }
}

/** Composes `call` hooks around the provider call: hooks[0] is outermost. */
function onionCaller(hooks: Hook<'call'>[], [ctx, attempt, innermost]: [RequestContext, Attempt, CallNext]): Promise<ProviderResponse> {
  const dispatch = (index: number, current: Attempt): Promise<ProviderResponse> =>
    index < hooks.length ? hooks[index]!(ctx, current, (next) => dispatch(index + 1, next)) : innermost(current)
  return dispatch(0, attempt)
}

function collectCaller(hooks: Hook<'stream'>[], [ctx]: [RequestContext]): StreamTransform[] {
  const transforms: StreamTransform[] = []
  for (const hook of hooks) {
    const transform = hook(ctx)
    if (typeof transform === 'function') transforms.push(transform)
  }
  return transforms
}

/** What the inbound API requires of a body before any hook runs. */
function readRequestShape(ctx: RequestContext): void {
  const body = ctx.body
  if (typeof body.model !== 'string' || !body.model.trim()) {
    throw new GatewayError(400, 'you must provide a model parameter', { type: 'invalid_request_error', param: 'model', code: 'missing_model' })
  }
  ctx.model = body.model
  if (ctx.api === 'openai-embeddings') {
    if (body.input === undefined) throw new GatewayError(400, 'you must provide an input parameter', { type: 'invalid_request_error', param: 'input' })
    return
  }
  if (!Array.isArray(body.messages)) {
    throw new GatewayError(400, 'messages must be an array', { type: 'invalid_request_error', param: 'messages' })
  }
  ctx.stream = body.stream === true
  ctx.clientWantsStreamUsage = ctx.api !== 'openai-chat' || (body.stream_options as any)?.include_usage === true
}

export interface PipelineOptions {
  host: PluginHost
  logger: ConsolaInstance
  clock: Clock
  bodyLimit: number
}

export class Pipeline {
  readonly #host: PluginHost
  readonly #logger: ConsolaInstance
  readonly #clock: Clock
  readonly #bodyLimit: number
  #inflight = 0
  #drained: Array<() => void> = []
  readonly #pendingRecords = new Set<Promise<void>>()

  constructor(options: PipelineOptions) {
    this.#host = options.host
    this.#logger = options.logger
    this.#clock = options.clock
    this.#bodyLimit = options.bodyLimit
  }

  get inflight(): number {
    return this.#inflight
  }

  /** Resolves once no request is in flight. */
  drained(): Promise<void> {
    return this.#inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.#drained.push(resolve))
  }

  async handle(request: Request, api: InboundApi): Promise<Response> {
    const ctx = createContext(request, api, newRequestId(), request.signal, this.#clock.now())
    const exchange = new Exchange(ctx, this)
    this.#inflight++
    try {
      ctx.body = await readJsonBody(request, this.#bodyLimit)
      readRequestShape(ctx)
      const hooks = this.#host.hooks
      for (const phase of ['auth', 'route', 'limit'] as const) {
        await hooks.callHookWith(gateCaller as any, phase, [ctx])
        if (ctx.response) return exchange.gateResponse(ctx.response)
        if (phase === 'route' && ctx.plan.length === 0) ctx.plan = [this.#resolveDirect(ctx.model)]
      }
      const result = await hooks.callHookWith(onionCaller as any, 'call', [ctx, { target: ctx.plan[0]!, number: 1 }, this.#innermost(ctx)]) as ProviderResponse
      return result.stream ? exchange.streamResponse(result) : exchange.jsonResponse(result)
    } catch (error) {
      return exchange.errorResponse(error)
    }
  }

  /** `provider/model` with no router: the provider named by the prefix, the rest as the upstream model. */
  #resolveDirect(model: string): Target {
    const slash = model.indexOf('/')
    const provider = slash > 0 ? this.#host.providers.get(model.slice(0, slash)) : undefined
    if (!provider) {
      throw new GatewayError(404, `The model \`${model}\` does not exist: address a model as provider/model or by a configured alias`, { type: 'invalid_request_error', param: 'model', code: 'model_not_found' })
    }
    return { provider: provider.name, model: model.slice(slash + 1) }
  }

  /** The innermost `call`: one request to the attempt's provider, in the best format it speaks. */
  #innermost(ctx: RequestContext): CallNext {
    return async (attempt) => {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new DOMException('aborted', 'AbortError')
      const { target } = attempt
      const provider = this.#host.providers.get(target.provider)
      if (!provider) throw new GatewayError(404, `no provider named "${target.provider}" is configured`, { type: 'invalid_request_error', code: 'model_not_found' })
      const clientFormat = ctx.api as WireFormat
      const format = providerFormatFor(clientFormat, provider.formats)
      const body = format === clientFormat ? { ...ctx.body } : translateRequest(ctx.body, clientFormat, format)
      setUpstreamModel(body, format, target.model)
      if (target.params) Object.assign(body, target.params)
      if (ctx.stream && format === 'openai-chat') body.stream_options = { ...(body.stream_options as object), include_usage: true }

      ctx.attempts++
      ctx.target = target
      const response = await provider.call({ ctx, target, body, format, stream: ctx.stream, signal: ctx.signal, timeouts: target.timeouts ?? {} })
      if (response.status >= 400) {
        const info = upstreamErrorInfo(response.format, response.status, response.body)
        throw new GatewayError(response.status, info.message, {
          type: info.type, code: info.code, param: info.param, upstream: true, retryAfter: retryAfterSeconds(response.headers),
        })
      }
      return response
    }
  }

  // ——— used by Exchange ———

  streamTransforms(ctx: RequestContext): StreamTransform[] {
    return this.#host.hooks.callHookWith(collectCaller as any, 'stream', [ctx]) as unknown as StreamTransform[]
  }

  now(): number {
    return this.#clock.now()
  }

  /** A bug, not a client or upstream error: log it for the operator; the client sees only a 500. */
  unexpected(ctx: RequestContext, cause: unknown): void {
    try {
      this.#logger.error(`${ctx.id}: unexpected error:`, (cause as Error)?.stack ?? String(cause))
    } catch {}
  }

  /**
   * The request is over: record it off the hot path, then count it out — so `drained()` also means every
   * record hook has been called (a shutdown never tears a recorder down before it saw the last records).
   */
  finished(record: RequestRecord, ctx: RequestContext): void {
    setImmediate(() => {
      try {
        this.#record(record, ctx)
      } finally {
        if (--this.#inflight === 0) for (const resolve of this.#drained.splice(0)) resolve()
      }
    })
  }

  /** Waits (up to `timeoutMs`) for record hooks that returned promises to settle. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.#pendingRecords.size === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.allSettled([...this.#pendingRecords]),
      new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs) }),
    ])
    clearTimeout(timer)
  }

  #record(record: RequestRecord, ctx: RequestContext): void {
    const pricing = this.#host.services.get('pricing') as { cost(p: string, m: string, u: RequestRecord['usage']): number | undefined } | undefined
    if (pricing && record.provider && record.upstreamModel) {
      try {
        record.costUSD = pricing.cost(record.provider, record.upstreamModel, record.usage) ?? 0
      } catch (error) {
        this.#logger.warn('pricing failed:', (error as Error)?.message)
      }
    }
    const logger = this.#logger
    this.#host.hooks.callHookWith((hooks: Hook<'record'>[]) => {
      for (const hook of hooks) {
        try {
          const result = hook(record, ctx)
          if (result && typeof (result as Promise<void>).then === 'function') {
            const pending = (result as Promise<void>)
              .catch((error) => logger.error('record hook failed:', error?.message ?? error))
              .finally(() => this.#pendingRecords.delete(pending))
            this.#pendingRecords.add(pending)
          }
        } catch (error) {
          logger.error('record hook failed:', (error as Error)?.message ?? error)
        }
      }
    }, 'record', [record, ctx] as any)
    if (logger.level < LOG_INFO) return // the request line is not shown: do not build it
    const target = record.provider ? ` → ${record.provider}/${record.upstreamModel}` : ''
    const tokens = record.usage.inputTokens || record.usage.outputTokens ? ` ${record.usage.inputTokens}+${record.usage.outputTokens} tok${record.usage.estimated ? ' (est)' : ''}` : ''
    logger.info(`${record.status} ${record.api} ${record.requestedModel}${target} ${record.latencyMs}ms${tokens} ${record.id}`)
  }
}

/** One request's way out: builds its response and makes sure it is recorded exactly once. */
class Exchange {
  #done = false

  constructor(readonly ctx: RequestContext, readonly pipeline: Pipeline) {}

  /** The headers every response of this request carries, as a plain object (srvx writes it as is). */
  headers(): Record<string, string> {
    const { ctx } = this
    const headers: Record<string, string> = {}
    for (const [name, value] of ctx.responseHeaders) headers[name] = value
    headers['x-request-id'] = ctx.id
    if (ctx.clientRequestId) headers['x-client-request-id'] = ctx.clientRequestId
    if (ctx.target) {
      headers['x-sluice-provider'] = ctx.target.provider
      headers['x-sluice-model'] = ctx.target.model
    }
    headers['x-sluice-attempts'] = String(ctx.attempts)
    return headers
  }

  finish(status: number, outcome: string, errorMessage?: string): void {
    if (this.#done) return
    this.#done = true
    const { ctx } = this
    this.pipeline.finished(recordOf(ctx, status, outcome, this.pipeline.now(), errorMessage), ctx)
  }

  gateResponse(response: Response): Response {
    const headers = new Headers(response.headers)
    for (const [name, value] of Object.entries(this.headers())) if (!headers.has(name)) headers.set(name, value)
    this.finish(response.status, response.ok ? 'ok' : 'refused')
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  }

  errorResponse(thrown: unknown): Response {
    const error = toGatewayError(thrown, this.ctx.signal.aborted)
    this.finish(error.status, errorInfo(error).type, error.message)
    if (error.status === 500 && !error.upstream) this.pipeline.unexpected(this.ctx, error.cause)
    return errorResponse(this.ctx.api, error, this.headers())
  }

  jsonResponse(result: ProviderResponse): Response {
    const { ctx } = this
    const clientFormat = ctx.api as WireFormat
    usageFromBody(result.format, result.body, ctx.usage)
    const text = result.format === clientFormat
      ? result.text ?? JSON.stringify(result.body)
      : JSON.stringify(translateResponse(result.body, result.format, clientFormat, { model: ctx.model, id: ctx.id, request: ctx.body }))
    const headers = this.headers()
    headers['content-type'] = 'application/json'
    ctx.firstByteAt = this.pipeline.now()
    this.finish(200, 'ok')
    return new FastResponse(text, { status: 200, headers }) as Response
  }

  streamResponse(result: ProviderResponse): Response {
    const headers = this.headers()
    headers['content-type'] = 'text/event-stream; charset=utf-8'
    headers['cache-control'] = 'no-cache'
    return new FastResponse(new EventPump(this, result).stream() as unknown as BodyInit, { status: 200, headers }) as Response
  }
}

/**
 * Moves one upstream event stream to the client: parse, read usage, translate when the formats differ,
 * apply the plugins' transforms, write. Pull-driven, so nothing is read from upstream faster than the
 * client takes it; memory stays flat whatever the response size.
 *
 * The body is a Node Readable rather than a web ReadableStream: srvx pipes it straight into the socket, and on
 * Node 20 each web stream costs a transferable wrapper and a promise per chunk (~6 % of a streamed request's CPU
 * in `npm run bench -- --profile --config minimal --stream` before the change: makeTransferable 3.7 %, web
 * streams 2.2 %). In-process consumers still read it as a web body (an async iterable).
 */
class EventPump {
  readonly #exchange: Exchange
  readonly #ctx: RequestContext
  readonly #upstream: AsyncIterator<Uint8Array>
  readonly #parser = new SSEParser()
  readonly #decoder = new TextDecoder()
  readonly #readUsage: (event: SSEEvent, usage: RequestContext['usage']) => void
  readonly #translator: StreamTranslator | undefined
  readonly #transforms: StreamTransform[]
  readonly #hideUsage: boolean
  readonly #clientFormat: WireFormat
  readonly #upstreamFormat: WireFormat
  /** Same-format streams: whether the upstream's own end marker (`[DONE]`, message_stop) went by. */
  #completed = false
  /** Set by #emit when an event was dropped or replaced, so the chunk's own bytes cannot be reused. */
  #rewritten = false
  /** Whether the last chunk ended on a line break (no event or character left half-way). */
  #cleanBoundary = true
  #pulling = false
  #ended = false

  constructor(exchange: Exchange, result: ProviderResponse) {
    const ctx = exchange.ctx
    this.#exchange = exchange
    this.#ctx = ctx
    this.#upstream = result.stream![Symbol.asyncIterator]()
    this.#clientFormat = ctx.api as WireFormat
    this.#upstreamFormat = result.format
    this.#readUsage = streamUsageReader(result.format)
    this.#translator = result.format === this.#clientFormat ? undefined : createStreamTranslator(result.format, this.#clientFormat, { model: ctx.model, id: ctx.id, request: ctx.body })
    this.#transforms = exchange.pipeline.streamTransforms(ctx)
    this.#hideUsage = this.#clientFormat === 'openai-chat' && !ctx.clientWantsStreamUsage
  }

  stream(): Readable {
    const pump = this
    return new Readable({
      read() {
        if (pump.#pulling) return
        pump.#pulling = true
        pump.#pull(this).finally(() => { pump.#pulling = false })
      },
      destroy(error, callback) {
        // Destroyed before the end: the client went away (or the socket failed). Stop the upstream at once.
        if (!pump.#ended) {
          pump.#ended = true
          pump.#upstream.return?.()?.catch(() => {})
          pump.#exchange.finish(CLIENT_CLOSED, 'client_abort', 'client closed the stream')
        }
        callback(error)
      },
    })
  }

  /** Reads upstream chunks until one yields bytes for the client (or the stream ends), and pushes them. */
  async #pull(out: Readable): Promise<void> {
    while (!this.#ended) {
      let chunk: IteratorResult<Uint8Array>
      try {
        chunk = await this.#upstream.next()
      } catch (thrown) {
        return this.#fail(out, thrown)
      }
      if (this.#ended) return
      if (chunk.done) {
        const text = this.#process(this.#parser.end())
        if (!(this.#translator ? this.#translator.upstreamDone : this.#completed)) {
          this.#write(out, text)
          return this.#fail(out, new GatewayError(502, 'the upstream stream ended before it was complete', { type: 'api_error', code: 'incomplete_stream', upstream: true }))
        }
        this.#write(out, this.#translator ? text + this.#frames(this.#translator.end()) : text)
        this.#end(out)
        this.#exchange.finish(200, 'ok')
        return
      }
      const bytes = chunk.value
      // The chunk's own bytes can stand for its text only when it holds whole events and whole characters.
      const aligned = this.#cleanBoundary && this.#parser.pending === 0
      this.#cleanBoundary = bytes[bytes.length - 1] === 0x0a
      this.#rewritten = false
      const text = this.#process(this.#parser.push(this.#decoder.decode(bytes, { stream: true })))
      if (!text) continue
      if (!this.#translator && aligned && this.#cleanBoundary && !this.#rewritten && this.#parser.pending === 0) this.#writeBytes(out, bytes)
      else this.#write(out, text)
      return
    }
  }

  #writeBytes(out: Readable, bytes: Uint8Array) {
    if (this.#ctx.firstByteAt === undefined) this.#ctx.firstByteAt = this.#exchange.pipeline.now()
    out.push(bytes)
  }

  #write(out: Readable, text: string) {
    if (text) this.#writeBytes(out, Buffer.from(text, 'utf8'))
  }

  #end(out: Readable) {
    this.#ended = true
    out.push(null)
  }

  #process(events: SSEEvent[]): string {
    let out = ''
    for (const event of events) {
      this.#readUsage(event, this.#ctx.usage)
      if (this.#translator) {
        out += this.#frames(this.#translator.push(event))
      } else {
        if (!this.#completed && streamCompleted(this.#upstreamFormat, event)) this.#completed = true
        out += this.#emit(event)
      }
    }
    return out
  }

  #frames(frames: SSEFrame[]): string {
    let out = ''
    for (const frame of frames) out += this.#emit(sseEvent(frame.data, frame.event))
    return out
  }

  #emit(event: SSEEvent): string {
    if (this.#hideUsage && isUsageOnlyChunk(event)) {
      this.#rewritten = true
      return ''
    }
    let current: SSEEvent | null = event
    for (const transform of this.#transforms) {
      current = transform(current, this.#ctx)
      if (!current) {
        this.#rewritten = true
        return ''
      }
    }
    if (current !== event) this.#rewritten = true
    return eventText(current)
  }

  /** The upstream died midway: end the client's stream with an error event in its format. */
  #fail(out: Readable, thrown: unknown) {
    if (this.#ended) return
    const error = toGatewayError(thrown, this.#ctx.signal.aborted)
    if (error.status === CLIENT_CLOSED) {
      this.#exchange.finish(CLIENT_CLOSED, 'client_abort', error.message)
      this.#end(out)
      return
    }
    const info = errorInfo(error)
    const frames = this.#translator ? this.#translator.error(info) : streamErrorFrames(this.#clientFormat, info)
    // Error frames bypass transforms: they must reach the client whatever a plugin does with events.
    this.#write(out, frames.map(eventText).join(''))
    this.#end(out)
    this.#exchange.finish(error.status, info.type, error.message)
  }
}
