/**
 * One request's spans: a SERVER span for the request (joining the client's trace when it sent a traceparent)
 * and a CLIENT child per upstream attempt, each attempt's trace context sent upstream with it.
 *
 * Times come from the gateway's clock and every span is ended in the `record` hook, after the response is
 * over: the request path only starts spans and notes times.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapSetter, trace, type Attributes, type Context, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator, millisToHrTime } from '@opentelemetry/core'
import { GatewayError } from '../../core/index.ts'
import type { Attempt, RequestContext, RequestRecord, StreamDelta, Target } from '../../core/index.ts'
import { OutputCollector, inputContent } from './content.ts'
import { requestParams } from './params.ts'
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_PATH,
  GEN_AI, SLUICE, operationOf, providerNameOf,
} from './semconv.ts'

const propagator = new W3CTraceContextPropagator()

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
}

/** Where a provider lives, for `server.address` / `server.port` and `gen_ai.provider.name`. */
export interface ProviderInfo {
  name: string
  host?: string
  port?: number
}

export interface TraceSettings {
  tracer: Tracer
  now(): number
  captureContent: boolean
  maxContentChars: number
  provider(name: string): ProviderInfo
}

interface AttemptSpan {
  span: Span
  number: number
  target: Target
  startedAt: number
  endedAt?: number
  /** The attempt returned a response (rather than throwing). */
  answered: boolean
}

/** What the `otel` plugin keeps in `ctx.state.otel` for one request. */
export class RequestTrace {
  readonly server: Span
  readonly #parent: Context
  readonly #operation: string
  readonly #attempts: AttemptSpan[] = []
  #firstChunkAt: number | undefined
  #responseModel: string | undefined
  #responseId: string | undefined
  readonly #finishReasons: string[] = []
  #output: OutputCollector | undefined

  constructor(readonly ctx: RequestContext, readonly settings: TraceSettings) {
    this.#operation = operationOf(ctx.api)
    const remote = propagator.extract(ROOT_CONTEXT, ctx.request.headers, headerGetter)
    this.server = settings.tracer.startSpan(this.#operation, {
      kind: SpanKind.SERVER,
      startTime: millisToHrTime(ctx.startedAt),
      attributes: {
        [GEN_AI.operationName]: this.#operation,
        [ATTR_HTTP_REQUEST_METHOD]: ctx.request.method,
        [ATTR_URL_PATH]: pathOf(ctx.request.url),
        [SLUICE.requestId]: ctx.id,
      },
    }, remote)
    this.#parent = trace.setSpan(remote, this.server)
    if (settings.captureContent && this.server.isRecording()) this.#output = new OutputCollector(settings.maxContentChars)
  }

  get recording(): boolean {
    return this.server.isRecording()
  }

  /** The W3C trace id this request is part of (the client's, when it sent a traceparent): for other plugins (a request log). */
  get traceId(): string {
    return this.server.spanContext().traceId
  }

  /**
   * Starts the attempt's CLIENT span and returns the attempt to pass on: the same target, with the span's
   * `traceparent` (and the client's `tracestate`) among its headers.
   */
  startAttempt(attempt: Attempt): { attempt: Attempt; span: AttemptSpan } {
    const { target } = attempt
    const provider = this.settings.provider(target.provider)
    const attributes: Attributes = {
      [GEN_AI.operationName]: this.#operation,
      [GEN_AI.providerName]: providerNameOf(provider.name, provider.host),
      [GEN_AI.requestModel]: target.model,
      [SLUICE.provider]: target.provider,
      [SLUICE.attempt]: attempt.number,
    }
    if (provider.host) attributes[ATTR_SERVER_ADDRESS] = provider.host
    if (provider.port) attributes[ATTR_SERVER_PORT] = provider.port
    const startedAt = this.settings.now()
    const span = this.settings.tracer.startSpan(`${this.#operation} ${target.model}`, { kind: SpanKind.CLIENT, startTime: millisToHrTime(startedAt), attributes }, this.#parent)
    const headers: Record<string, string> = { ...attempt.headers }
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter)
    const entry: AttemptSpan = { span, number: attempt.number, target, startedAt, answered: false }
    this.#attempts.push(entry)
    return { attempt: { ...attempt, headers }, span: entry }
  }

  /** The attempt answered: for a stream, the first chunk has arrived (the upstream client resolves then). */
  answered(entry: AttemptSpan, status: number): void {
    entry.endedAt = this.settings.now()
    entry.answered = true
    if (!entry.span.isRecording()) return
    entry.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
    if (this.ctx.stream) entry.span.setAttribute(GEN_AI.responseTimeToFirstChunk, (entry.endedAt - entry.startedAt) / 1000)
  }

  /** The attempt failed (an upstream error, a timeout, an open circuit). */
  failed(entry: AttemptSpan, error: unknown): void {
    entry.endedAt = this.settings.now()
    if (!entry.span.isRecording()) return
    const { type, status, message } = describeError(error)
    entry.span.setAttribute(ATTR_ERROR_TYPE, type)
    if (status) entry.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status)
    entry.span.setStatus({ code: SpanStatusCode.ERROR, message })
  }

  /** A delta on its way to the client (what the `stream` hook observes). */
  observe(delta: StreamDelta): void {
    switch (delta.type) {
      case 'start':
        this.#responseModel ??= delta.model
        this.#responseId ??= delta.id
        break
      case 'text':
      case 'thinking':
      case 'tool_call_start':
        this.#firstChunkAt ??= this.settings.now()
        break
      case 'finish':
        this.#finishReasons.push(delta.reason)
        break
    }
    this.#output?.add(delta)
  }

  /** The request is over: the final attributes, then every span ends (off the request path). */
  finish(record: RequestRecord): void {
    const end = Math.max(record.endedAt, ...this.#attempts.map((a) => a.endedAt ?? 0))
    const answering = this.#answering(record)
    if (this.recording) this.#describeServer(record, answering !== undefined || record.cached === true)
    for (const entry of this.#attempts) {
      if (entry === answering) {
        if (entry.span.isRecording()) {
          entry.span.setAttributes(this.#responseAttributes(record))
          // The upstream answered, then failed mid-stream (a dropped connection, an idle timeout).
          if (record.status >= 500) {
            entry.span.setAttribute(ATTR_ERROR_TYPE, record.outcome)
            entry.span.setStatus({ code: SpanStatusCode.ERROR, message: record.errorMessage })
          }
        }
        // A stream's attempt lasts until its last byte; a whole answer was complete when the call returned.
        entry.span.end(millisToHrTime(this.ctx.stream ? end : entry.endedAt ?? end))
      } else {
        entry.span.end(millisToHrTime(entry.endedAt ?? end))
      }
    }
    this.server.end(millisToHrTime(end))
  }

  /** The attempt whose answer the client got: the last one that answered, on the target the record names. */
  #answering(record: RequestRecord): AttemptSpan | undefined {
    if (record.cached) return undefined
    for (let i = this.#attempts.length - 1; i >= 0; i--) {
      const entry = this.#attempts[i]!
      if (entry.answered) return entry
    }
    return undefined
  }

  /** `answered`: an attempt (or the cache) gave the answer, so the response attributes apply. */
  #describeServer(record: RequestRecord, answered: boolean): void {
    const server = this.server
    const model = record.requestedModel
    if (model) server.updateName(`${this.#operation} ${model}`)
    const attributes: Attributes = {
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: record.status,
      [SLUICE.attempts]: record.attempts,
      [SLUICE.outcome]: record.outcome,
      ...requestParams(this.ctx.api, this.ctx.body),
    }
    if (model) attributes[GEN_AI.requestModel] = model
    if (record.provider) {
      const provider = this.settings.provider(record.provider)
      attributes[GEN_AI.providerName] = providerNameOf(provider.name, provider.host)
      attributes[SLUICE.provider] = record.provider
    }
    if (record.principalId) attributes[SLUICE.principal] = record.principalId
    if (record.cached) attributes[SLUICE.cached] = true
    if (record.costUSD !== undefined) attributes[SLUICE.costUsd] = record.costUSD
    const skipped = (this.ctx.state.router as { skipped?: string[] } | undefined)?.skipped
    if (skipped?.length) attributes[SLUICE.skippedTargets] = [...skipped]
    if (answered) Object.assign(attributes, this.#responseAttributes(record))
    if (this.#firstChunkAt !== undefined && this.ctx.stream) attributes[GEN_AI.responseTimeToFirstChunk] = Math.max(0, this.#firstChunkAt - record.startedAt) / 1000
    if (this.settings.captureContent) this.#content(attributes)
    if (record.status >= 400) {
      attributes[ATTR_ERROR_TYPE] = record.outcome === 'ok' ? String(record.status) : record.outcome
      // A 4xx is the caller's problem, not the server's: only 5xx marks the span as failed.
      if (record.status >= 500) server.setStatus({ code: SpanStatusCode.ERROR, message: record.errorMessage })
    }
    server.setAttributes(attributes)
  }

  #responseAttributes(record: RequestRecord): Attributes {
    const attributes: Attributes = {}
    const responseModel = this.#responseModel ?? record.upstreamModel
    if (responseModel) attributes[GEN_AI.responseModel] = responseModel
    if (this.#responseId) attributes[GEN_AI.responseId] = this.#responseId
    if (this.#finishReasons.length) attributes[GEN_AI.responseFinishReasons] = [...this.#finishReasons]
    const usage = record.usage
    if (usage && (usage.inputTokens || usage.outputTokens)) {
      attributes[GEN_AI.usageInputTokens] = usage.inputTokens
      attributes[GEN_AI.usageOutputTokens] = usage.outputTokens
      if (usage.cachedTokens) attributes[GEN_AI.usageCacheReadInputTokens] = usage.cachedTokens
      if (usage.cacheWriteTokens) attributes[GEN_AI.usageCacheCreationInputTokens] = usage.cacheWriteTokens
      if (usage.reasoningTokens) attributes[GEN_AI.usageReasoningOutputTokens] = usage.reasoningTokens
      if (usage.estimated) attributes[SLUICE.estimatedUsage] = true
    }
    return attributes
  }

  #content(attributes: Attributes): void {
    if (this.ctx.api !== 'openai-embeddings') {
      try {
        const input = inputContent(this.ctx.input(), this.settings.maxContentChars)
        attributes[GEN_AI.inputMessages] = input.messages
        if (input.system) attributes[GEN_AI.systemInstructions] = input.system
      } catch {
        // A request the gateway could not read has no content to show.
      }
    }
    if (this.#output && (this.#finishReasons.length || this.#firstChunkAt !== undefined)) attributes[GEN_AI.outputMessages] = this.#output.json()
  }
}

/** Failures the gateway names itself (no upstream HTTP status says it better). */
const GATEWAY_CODES = new Set(['circuit_open', 'connection_error', 'invalid_upstream_response', 'upstream_redirect', 'upstream_auth_failed'])

/**
 * `error.type` (low cardinality: the upstream's HTTP status, or the gateway's own code for a timeout, a refused
 * connection, an open circuit), the upstream status, and a message safe to show (GatewayError messages are).
 */
function describeError(error: unknown): { type: string; status?: number; message?: string } {
  if (GatewayError.is(error)) {
    const code = error.code ?? undefined
    const status = error.upstreamStatus ?? (error.upstream && !code?.endsWith('_timeout') && !GATEWAY_CODES.has(code ?? '') ? error.status : undefined)
    const type = code && (code.endsWith('_timeout') || GATEWAY_CODES.has(code)) ? code : status ? String(status) : code ?? error.type ?? String(error.status)
    return { type, status, message: error.message }
  }
  const name = (error as Error)?.name
  return { type: name === 'AbortError' ? 'cancelled' : name || 'Error' }
}

function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const query = url.indexOf('?', start)
  return query === -1 ? url.slice(start) : url.slice(start, query)
}
