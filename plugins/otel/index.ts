/**
 * `otel()`: OpenTelemetry traces with the official SDK. A SERVER span per request — joining the client's trace
 * when it sends a W3C `traceparent` — and a CLIENT child per upstream attempt, so retries, fallbacks and
 * targets skipped for an open circuit show up; each attempt sends its own `traceparent` upstream. Names and
 * attributes follow the GenAI semantic conventions (`chat gpt-4o`, `gen_ai.*`, `error.type`, `server.address`).
 * Spans go to an OTLP/HTTP collector in batches through a bounded queue: a collector that is down or slow costs
 * requests nothing, and what is lost is counted (`sluice_otel_spans_dropped_total`, the `otel` service).
 *
 *   otel()                                                         // OTEL_EXPORTER_OTLP_* from the environment
 *   otel({ endpoint: 'http://collector:4318', headers: { 'x-api-key': process.env.OTLP_KEY! }, captureContent: true })
 *
 * Order -15: inside the router's fallback (-30) and retry (-20), outside the breaker (-10), so every attempt
 * they make — including one the breaker refuses — gets its span. A cache hit (-50) makes no attempt at all.
 */
import { definePlugin, redactSecrets } from '../../core/index.ts'
import type { Attempt, CallNext, PluginContext, ProviderResponse, RequestContext, RequestRecord, SluicePlugin, StreamHandlers } from '../../core/index.ts'
import { createTracerProvider, shutdownTracerProvider } from './export.ts'
import { describeOtelOptions, parseOtelOptions, type OtelOptions } from './options.ts'
import { OtelStats, type DropReason, type OtelStatsSnapshot } from './stats.ts'
import { RequestTrace, type ProviderInfo, type TraceSettings } from './trace.ts'

export type { OtelOptions, OtelStatsSnapshot }

/** The `otel` service: this process's export counters. */
export interface OtelService {
  stats(): OtelStatsSnapshot
}

declare module '../../core/index.ts' {
  interface Services {
    /** Span export counters: exported, dropped by reason, queued. (otel plugin) */
    otel: OtelService
  }
}

/** `ctx.state.otel` holds the request's RequestTrace; other plugins may read its `traceId`. */
const STATE = 'otel'
/** At most one warning about lost spans per this many ms. */
const WARN_EVERY_MS = 60_000

export const otel = definePlugin((input: OtelOptions = {}): SluicePlugin => {
  const settings = parseOtelOptions(input)
  return {
    name: 'otel',
    order: -15,
    options: describeOtelOptions(settings),
    setup(gw: PluginContext) {
      let lastWarning = -Infinity
      const stats = new OtelStats(gw.clock.now(), (reason: DropReason, count: number, cause?: string) => {
        const now = gw.clock.now()
        if (now - lastWarning < WARN_EVERY_MS) return
        lastWarning = now
        const why = cause ? `: ${redactSecrets(cause).slice(0, 200)}` : ''
        gw.logger.warn(`${count} span(s) dropped (${reason.replace('_', ' ')}${why}); requests are unaffected. Totals so far: ${JSON.stringify(stats.snapshot().dropped)}`)
      })
      const provider = createTracerProvider(settings, stats)
      const traceSettings: TraceSettings = {
        tracer: provider.getTracer('sluice'),
        now: () => gw.clock.now(),
        captureContent: settings.captureContent,
        maxContentChars: settings.maxContentChars,
        provider: providerInfo(gw),
      }
      gw.provide('otel', { stats: () => stats.snapshot() })

      const traceOf = (ctx: RequestContext): RequestTrace => (ctx.state[STATE] ??= new RequestTrace(ctx, traceSettings))

      return {
        hooks: {
          // The first phase that only model calls reach (count-tokens and /v1/models stop before it).
          limit(ctx: RequestContext) {
            traceOf(ctx)
          },
          async call(ctx: RequestContext, attempt: Attempt, next: CallNext): Promise<ProviderResponse> {
            const trace = traceOf(ctx)
            const started = trace.startAttempt(attempt)
            let response: ProviderResponse
            try {
              response = await next(started.attempt)
            } catch (error) {
              trace.failed(started.span, error)
              throw error
            }
            trace.answered(started.span, response.status)
            return response
          },
          stream(ctx: RequestContext): StreamHandlers | undefined {
            const trace = ctx.state[STATE] as RequestTrace | undefined
            if (!trace?.recording) return undefined
            return { observe: (delta) => trace.observe(delta) }
          },
          record(record: RequestRecord, ctx: RequestContext) {
            // A request a gate refused before `limit` gets its server span now, from its record's times.
            traceOf(ctx).finish(record)
          },
        },
        teardown: () => shutdownTracerProvider(provider, stats, settings.shutdownTimeoutMs),
      }
    },
  }
})

/** Host and port of each provider, from its plugin's `baseURL` option (looked up once per provider). */
function providerInfo(gw: PluginContext): (name: string) => ProviderInfo {
  const known = new Map<string, ProviderInfo>()
  return (name) => {
    let info = known.get(name)
    if (info) return info
    info = { name }
    const baseURL = gw.plugins().find((plugin) => plugin.name === name)?.options?.baseURL
    if (typeof baseURL === 'string') {
      try {
        const url = new URL(baseURL)
        info.host = url.hostname
        info.port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
      } catch {}
    }
    known.set(name, info)
    return info
  }
}

export default otel
