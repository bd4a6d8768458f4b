/**
 * The request pipeline: auth → route → limit → call → stream → record.
 *
 * `auth` runs on the headers alone; the body is read and checked after it (or when an auth hook asks for it).
 * Gates (auth, route, limit) bail on the first GatewayError or `ctx.response`; `call` hooks wrap each upstream
 * attempt onion-style around the provider call; `stream` hooks are asked once per response for their handlers;
 * when the request has ended its usage is completed and priced once, the `limit` hooks' settle functions run,
 * then the `record` hooks observe the one final record, off the hot path.
 */
import type { ConsolaInstance } from 'consola'
import { GatewayError } from './errors.ts'
import { Context, newRequestId, recordOf } from './context.ts'
import { readJsonBody } from './body.ts'
import { Exchange, type ExchangeHost } from './exchange.ts'
import { errorResponse, toGatewayError } from './respond.ts'
import { gateCaller, onionCaller, streamCaller, type ResponseHandlers } from './hook-callers.ts'
import { codecFor, providerFormatFor, setUpstreamModel, translateRequest } from './formats/index.ts'
import { clampBodyOutputTokens, dropReasoningControls } from './formats/limits.ts'
import { isSuccess, upstreamError } from './upstream-errors.ts'
import { discard } from './failure.ts'
import { finalizeRecord, settleAll } from './finalize.ts'
import { asUpstreamResponse } from './upstream-response.ts'
import { shapedFor } from './view.ts'
import { readRequestShape, type UrlFields } from './inbound.ts'
import type { PluginHost } from './host.ts'
import { estimateInputTokens } from './estimate.ts'
import type { CallNext, Clock, InboundApi, Principal, ProviderRequest, ProviderResponse, RequestContext, RequestRecord, Services, Target, WireFormat } from './types.ts'

/** consola's level for `info`. */
const LOG_INFO = 3

/** A count-tokens answer in the shape of the API that asked. */
function countTokensBody(api: InboundApi, count: number): unknown {
  if (api === 'gemini') return { totalTokens: count }
  if (api === 'openai-responses') return { object: 'response.input_tokens', input_tokens: count }
  return { input_tokens: count }
}

/** The principal's model allow-list (set by an auth plugin), checked as soon as the model is known. */
function assertModelAllowed(ctx: Context): void {
  const principal = ctx.principal
  if (principal?.allowsModel && !principal.allowsModel(ctx.model)) {
    throw new GatewayError(403, `This key may not use model "${ctx.model}".`, { type: 'permission_error', code: 'model_not_allowed', param: 'model' })
  }
}

export interface PipelineOptions {
  host: PluginHost
  logger: ConsolaInstance
  clock: Clock
  bodyLimit: number
}

export class Pipeline implements ExchangeHost {
  readonly #host: PluginHost
  readonly logger: ConsolaInstance
  readonly #clock: Clock
  readonly #bodyLimit: number
  #inflight = 0
  #drained: Array<() => void> = []
  readonly #pendingRecords = new Set<Promise<void>>()

  constructor(options: PipelineOptions) {
    this.#host = options.host
    this.logger = options.logger
    this.#clock = options.clock
    this.#bodyLimit = options.bodyLimit
  }

  get inflight(): number {
    return this.#inflight
  }

  /** Resolves once no request is in flight (and every finished one has been handed to the record hooks). */
  drained(): Promise<void> {
    return this.#inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.#drained.push(resolve))
  }

  #loadBody = async (ctx: Context): Promise<void> => {
    const { body, bytes } = await readJsonBody(ctx.request, this.#bodyLimit)
    ctx.body = body
    ctx.bodyChars = bytes
    readRequestShape(ctx)
  }

  #context(request: Request, api: InboundApi, urlFields?: UrlFields): Context {
    return new Context(newRequestId(), request, api, undefined, this.#clock.now(), this.#loadBody, urlFields)
  }

  async handle(request: Request, api: InboundApi, urlFields?: UrlFields): Promise<Response> {
    const ctx = this.#context(request, api, urlFields)
    const exchange = new Exchange(ctx, this)
    this.#inflight++
    try {
      const hooks = this.#host.hooks
      await hooks.callHookWith(gateCaller as any, 'auth', [ctx])
      if (ctx.response) return exchange.gateResponse(ctx.response)
      await ctx.readBody()
      assertModelAllowed(ctx)
      await hooks.callHookWith(gateCaller as any, 'route', [ctx])
      if (ctx.response) return exchange.gateResponse(ctx.response)
      if (ctx.plan.length === 0) ctx.plan = [this.#resolveDirect(ctx.model)]
      await hooks.callHookWith(gateCaller as any, 'limit', [ctx])
      if (ctx.response) return exchange.gateResponse(ctx.response)
      const answer = await hooks.callHookWith(onionCaller as any, 'call', [ctx, { target: ctx.plan[0]!, number: 1 }, this.#innermost(ctx)]) as ProviderResponse
      const shaped = shapedFor(ctx.stream, answer, { model: ctx.model, id: ctx.id, request: ctx.body })
      const result = shaped instanceof Promise ? await shaped : shaped
      return result.stream || result.deltas ? await exchange.streamResponse(result) : exchange.jsonResponse(result)
    } catch (error) {
      return exchange.errorResponse(error)
    }
  }

  /**
   * Runs only the `auth` phase for a request that is not a model call (`GET /v1/models`): the principal, or the
   * error the client must get. With no auth hook registered there is no principal, and the caller is served.
   */
  async authorize(request: Request, api: InboundApi): Promise<{ principal?: Principal; error?: Response }> {
    const ctx = this.#context(request, api)
    try {
      await this.#host.hooks.callHookWith(gateCaller as any, 'auth', [ctx])
      if (ctx.response) return { error: ctx.response }
      return { principal: ctx.principal }
    } catch (thrown) {
      const error = toGatewayError(thrown, false)
      if (error.status === 500) this.unexpected(ctx, error.cause)
      return { error: errorResponse(api, error, { 'x-request-id': ctx.id }) }
    }
  }

  /**
   * The count-tokens endpoints (Anthropic `count_tokens`, Gemini `countTokens`, OpenAI `responses/input_tokens`):
   * auth, the body, the model allow-list and routing as for a call; then the target provider's own counter when it
   * speaks the client's format, else a tokenizer estimate (`x-sluice-token-count: estimated`). Not limited, not
   * recorded: it generates nothing.
   */
  async countTokens(request: Request, api: InboundApi, urlFields?: UrlFields): Promise<Response> {
    const ctx = this.#context(request, api, urlFields)
    const headers: Record<string, string> = { 'x-request-id': ctx.id }
    let status = 200
    try {
      await this.#host.hooks.callHookWith(gateCaller as any, 'auth', [ctx])
      if (ctx.response) return ctx.response
      await ctx.readBody()
      assertModelAllowed(ctx)
      await this.#host.hooks.callHookWith(gateCaller as any, 'route', [ctx])
      if (ctx.response) return ctx.response
      if (ctx.plan.length === 0) ctx.plan = [this.#resolveDirect(ctx.model)]
      const { count, source } = await this.#count(ctx, ctx.plan[0]!)
      headers['x-sluice-token-count'] = source
      headers['content-type'] = 'application/json'
      return new Response(JSON.stringify(countTokensBody(api, count)), { status, headers })
    } catch (thrown) {
      const error = toGatewayError(thrown, ctx.signal.aborted)
      status = error.status
      if (error.status === 500 && !error.upstream) this.unexpected(ctx, error.cause)
      return errorResponse(api, error, headers)
    } finally {
      const record = recordOf(ctx, status, 'count_tokens', this.now())
      await settleAll(record, ctx, this.logger)
    }
  }

  async #count(ctx: Context, target: Target): Promise<{ count: number; source: 'provider' | 'estimated' }> {
    const provider = this.#host.providers.get(target.provider)
    if (provider?.countTokens && provider.formats.includes(ctx.api)) {
      const body = { ...ctx.body }
      setUpstreamModel(body, ctx.api, target.model)
      const count = await provider.countTokens({ ctx, target, body, format: ctx.api, stream: false, signal: ctx.signal, timeouts: target.timeouts ?? {} })
      return { count, source: 'provider' }
    }
    const estimator = this.#host.services.get('usageEstimator') as Services['usageEstimator'] | undefined
    const count = estimator?.countInput ? await estimator.countInput(ctx) : estimateInputTokens(ctx)
    return { count, source: 'estimated' }
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
  #innermost(ctx: Context): CallNext {
    return async (attempt) => {
      if (ctx.clientGone) throw ctx.signal.reason ?? new DOMException('aborted', 'AbortError')
      const { target } = attempt
      const provider = this.#host.providers.get(target.provider)
      if (!provider) throw new GatewayError(404, `no provider named "${target.provider}" is configured`, { type: 'invalid_request_error', code: 'model_not_found' })
      const clientFormat = ctx.api as WireFormat
      const format = providerFormatFor(clientFormat, provider.formatsFor?.(target.model) ?? provider.formats)
      const body = this.#upstreamBody(ctx, clientFormat, format)
      setUpstreamModel(body, format, target.model)
      if (target.params) Object.assign(body, target.params)
      this.#fitToModel(ctx, body, clientFormat, format, target)
      if (ctx.stream && format === 'openai-chat') body.stream_options = { ...(body.stream_options as object), include_usage: true }

      ctx.attempts++
      ctx.target = target
      const request: ProviderRequest = {
        ctx, target, body, format, stream: ctx.stream, timeouts: target.timeouts ?? {}, headers: attempt.headers,
        get signal() { return ctx.signal }, // made only for a provider that reads it (core's link with `ctx.onClientGone`)
      }
      const response = asUpstreamResponse(await provider.call(request))
      if (!isSuccess(response)) {
        discard(response) // an error that came with a stream: cancel it, or the upstream request leaks
        throw upstreamError(response)
      }
      return response
    }
  }

  /**
   * Fits the upstream body to what the target model can do (the `models` service's table): an output cap above
   * its limit is lowered, and said so; translated reasoning controls are dropped for a model that refuses them
   * (a client's own same-format request is its own business).
   */
  #fitToModel(ctx: Context, body: Record<string, unknown>, clientFormat: WireFormat, format: WireFormat, target: Target): void {
    const capabilities = (this.#host.services.get('models') as Services['models'] | undefined)?.capabilities(target.provider, target.model)
    if (!capabilities) return
    const limit = capabilities.maxOutputTokens
    if (limit && clampBodyOutputTokens(body, format, limit)) ctx.responseHeaders.set('x-sluice-max-tokens-clamped', String(limit))
    if (capabilities.reasoning === false && format !== clientFormat) dropReasoningControls(body, format)
  }

  /** The body for the provider: the client's own (copied), translated, or encoded from a plugin's new input view. */
  #upstreamBody(ctx: Context, clientFormat: WireFormat, format: WireFormat): Record<string, unknown> {
    if (ctx.inputOverride) {
      const encode = codecFor(format).encodeRequest
      if (!encode) throw new GatewayError(400, `cannot encode a ${format} request`, { type: 'invalid_request_error', code: 'unsupported_translation' })
      return encode({ ...ctx.inputOverride, stream: ctx.stream })
    }
    return format === clientFormat ? { ...ctx.body } : translateRequest(ctx.body, clientFormat, format, { stream: ctx.stream })
  }

  // ——— ExchangeHost ———

  responseHandlers(ctx: Context): ResponseHandlers {
    return this.#host.hooks.callHookWith(streamCaller as any, 'stream', [ctx]) as unknown as ResponseHandlers
  }

  now(): number {
    return this.#clock.now()
  }

  /** A bug, not a client or upstream error: log it for the operator; the client sees only a 500. */
  unexpected(ctx: RequestContext, cause: unknown): void {
    try {
      this.logger.error(`${ctx.id}: unexpected error:`, (cause as Error)?.stack ?? String(cause))
    } catch {}
  }

  /**
   * The request is over: complete its record off the hot path, then count it out — so `drained()` also means
   * every record hook has been called (a shutdown never tears a recorder down before it saw the last records).
   * The records finished in one turn of the event loop are completed together in the next (one immediate).
   */
  finished(ctx: Context, status: number, outcome: string, errorMessage?: string): void {
    const record = recordOf(ctx, status, outcome, this.now(), errorMessage)
    if (this.#finishing.push({ record, ctx }) === 1) setImmediate(this.#finishAll)
  }

  #finishing: Array<{ record: RequestRecord; ctx: Context }> = []

  #finishAll = (): void => {
    const batch = this.#finishing
    this.#finishing = []
    for (const { record, ctx } of batch) this.#finalize(record, ctx)
  }

  #countOut = (): void => {
    if (--this.#inflight === 0) for (const resolve of this.#drained.splice(0)) resolve()
  }

  /** Usage completed and priced once; reservations settled; then every record hook sees the same record. */
  #finalize(record: RequestRecord, ctx: Context): void {
    const failed = (error: unknown) => { this.logger.error('finishing a record failed:', (error as Error)?.message ?? error) }
    const recordIt = () => {
      this.#runRecordHooks(record, ctx)
      this.#logLine(record)
    }
    let pending: Promise<void> | undefined
    try {
      pending = finalizeRecord(record, ctx, this.#host.services, this.logger)
      if (!pending) recordIt()
    } catch (error) {
      failed(error)
    }
    if (pending) pending.then(recordIt).catch(failed).finally(this.#countOut)
    else this.#countOut()
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

  #runRecordHooks(record: RequestRecord, ctx: Context): void {
    const logger = this.logger
    this.#host.hooks.callHookWith((hooks: Array<(r: RequestRecord, c: RequestContext) => unknown>) => {
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
  }

  #logLine(record: RequestRecord): void {
    if (this.logger.level < LOG_INFO) return // the request line is not shown: do not build it
    const target = record.provider ? ` → ${record.provider}/${record.upstreamModel}` : ''
    const tokens = record.usage.inputTokens || record.usage.outputTokens ? ` ${record.usage.inputTokens}+${record.usage.outputTokens} tok${record.usage.estimated ? ' (est)' : ''}` : ''
    this.logger.info(`${record.status} ${record.api} ${record.requestedModel}${target} ${record.latencyMs}ms${tokens} ${record.id}`)
  }
}
