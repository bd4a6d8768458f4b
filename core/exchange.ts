/**
 * One request's way out: builds its response (an error, a gate's answer, a JSON body or a stream) with the
 * headers every hook set, and makes sure the request is finished — recorded — exactly once.
 */
import type { ConsolaInstance } from 'consola'
import { FastResponse } from 'srvx'
import { applyUsage, codecFor, translateResponse } from './formats/index.ts'
import { isSafeHeaderValue } from './headers.ts'
import { errorInfo, errorResponse, toGatewayError } from './respond.ts'
import { EventPump } from './event-pump.ts'
import { collectDeltas, deltasOf, peekBody, readOutput } from './view.ts'
import type { Context } from './context.ts'
import type { ResponseHandlers } from './hook-callers.ts'
import type { DeltaChain } from './view.ts'
import type { ProviderResponse, ResponseView, StreamDelta } from './types.ts'
import type { TranslateInfo } from './formats/types.ts'

/** What an Exchange needs from the pipeline. */
export interface ExchangeHost {
  readonly logger: ConsolaInstance
  now(): number
  /** The request is over: settle, record (off the hot path), count it out. */
  finished(ctx: Context, status: number, outcome: string, errorMessage?: string): void
  /** The stream hooks' handlers for this response. */
  responseHandlers(ctx: Context): ResponseHandlers
  /** A bug, not a client or upstream error: logged for the operator. */
  unexpected(ctx: Context, cause: unknown): void
}

/** A whole response through the plugins' delta handlers, as the deltas its stream would carry. */
function passThrough(view: ResponseView, deltas: DeltaChain): StreamDelta[] {
  return [...deltasOf(view).flatMap((delta) => deltas.push(delta)), ...deltas.end()]
}

export class Exchange {
  #done = false

  constructor(readonly ctx: Context, readonly host: ExchangeHost) {}

  now(): number {
    return this.host.now()
  }

  finish(status: number, outcome: string, errorMessage?: string): void {
    if (this.#done) return
    this.#done = true
    this.host.finished(this.ctx, status, outcome, errorMessage)
  }

  /** The headers every response of this request carries, as a plain object (srvx writes it as is). */
  headers(): Record<string, string> {
    const { ctx } = this
    const headers = ctx.responseHeaders.copyTo({})
    headers['x-request-id'] = ctx.id
    if (ctx.clientRequestId) headers['x-client-request-id'] = ctx.clientRequestId
    if (ctx.target) {
      // Plugins can plan any target: only values Node can write reach the header.
      if (isSafeHeaderValue(ctx.target.provider)) headers['x-sluice-provider'] = ctx.target.provider
      if (isSafeHeaderValue(ctx.target.model)) headers['x-sluice-model'] = ctx.target.model
    }
    headers['x-sluice-attempts'] = String(ctx.attempts)
    return headers
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
    if (error.status === 500 && !error.upstream) this.host.unexpected(this.ctx, error.cause)
    return errorResponse(this.ctx.api, error, this.headers())
  }

  /**
   * A whole (non-stream) response: passed through as received when nothing changed it, else encoded for the
   * client from the neutral view (a provider's `output`, or a plugin's delta editors). Observers read the view
   * without changing what is written.
   */
  jsonResponse(result: ProviderResponse): Response {
    const { ctx } = this
    const clientFormat = ctx.api
    const { deltas } = this.host.responseHandlers(ctx)
    const info: TranslateInfo = { model: ctx.model, id: ctx.id, request: ctx.body }
    const viewable = codecFor(clientFormat).kind === 'chat' && (result.output !== undefined || !!codecFor(result.format).decodeResponse)
    let text: string
    if (result.output || (deltas.edits && viewable)) {
      let view = readOutput(result, info)
      if (deltas.active) view = collectDeltas(passThrough(view, deltas))
      applyUsage(ctx.usage, view.usage)
      const encode = codecFor(clientFormat).encodeResponse
      if (!encode) throw new TypeError(`${clientFormat} has no response encoder`)
      text = JSON.stringify(encode(view, info))
    } else {
      if (deltas.active && viewable) passThrough(readOutput(result, info), deltas)
      applyUsage(ctx.usage, codecFor(result.format).bodyUsage(peekBody(result)))
      text = result.format === clientFormat && result.text !== undefined
        ? result.text
        : JSON.stringify(translateResponse(result.body, result.format, clientFormat, info))
    }
    const headers = this.headers()
    headers['content-type'] = 'application/json'
    ctx.firstByteAt = this.now()
    this.finish(200, 'ok')
    return new FastResponse(text, { status: 200, headers }) as Response
  }

  /** A stream: primed up to its first bytes (so headers set by its first events' handlers go out), then pumped. */
  async streamResponse(result: ProviderResponse): Promise<Response> {
    const pump = new EventPump(this, result, this.host.responseHandlers(this.ctx))
    const early = await pump.prime()
    if (early) return this.errorResponse(early)
    const headers = this.headers()
    headers['content-type'] = 'text/event-stream; charset=utf-8'
    headers['cache-control'] = 'no-cache'
    return new FastResponse(pump.body() as unknown as BodyInit, { status: 200, headers }) as Response
  }
}
