/** `otel()` options, validated at config load: an unknown key or a bad value stops start-up naming it. */
import { parseOptions, z } from '../../core/index.ts'

const positive = z.number().int().positive()

export const otelOptionsSchema = z.strictObject({
  /**
   * The collector's OTLP/HTTP address: a base URL (`http://collector:4318`, `/v1/traces` is appended) or the
   * full traces URL. Unset: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, then `OTEL_EXPORTER_OTLP_ENDPOINT`, then
   * `http://localhost:4318/v1/traces`.
   */
  endpoint: z.url().optional(),
  /** Headers sent to the collector (an API key); merged over `OTEL_EXPORTER_OTLP_HEADERS`. Shown redacted. */
  headers: z.record(z.string(), z.string()).optional(),
  /** `service.name` of the resource. Unset: `OTEL_SERVICE_NAME`, then `sluice`. */
  serviceName: z.string().min(1).optional(),
  /** Share of new traces recorded (0–1); a client's traceparent decides for the traces it started. */
  sampleRate: z.number().min(0).max(1).default(1),
  /** Record prompts and completions (`gen_ai.input.messages`, `gen_ai.output.messages`), secrets redacted. */
  captureContent: z.boolean().default(false),
  /** With `captureContent`: the longest text part kept, in characters (longer ones are cut). */
  maxContentChars: positive.default(4096),
  /** Finished spans waiting for export at most; past it new spans are dropped (and counted). */
  maxQueueSize: positive.default(2048),
  /** Spans per export request at most. */
  maxExportBatchSize: positive.default(512),
  /** ms between two exports of a partial batch. */
  scheduledDelayMs: positive.default(1000),
  /** ms an export may take before it is given up (its spans counted as dropped). */
  exportTimeoutMs: positive.default(3000),
  /** ms the gateway's shutdown waits for the last spans to reach the collector. */
  shutdownTimeoutMs: positive.default(3000),
})

export type OtelOptions = z.input<typeof otelOptionsSchema>
export type OtelSettings = z.output<typeof otelOptionsSchema>

export function parseOtelOptions(input: unknown): OtelSettings {
  const settings = parseOptions('otel', otelOptionsSchema, input)
  if (settings.maxExportBatchSize > settings.maxQueueSize) settings.maxExportBatchSize = settings.maxQueueSize
  return settings
}

/** The traces URL the options name, or undefined to let the exporter read the environment. */
export function tracesUrl(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined
  const url = new URL(endpoint)
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`
  return url.toString()
}

/** The options as `sluice check` and the dashboard show them: header values and URL passwords never appear. */
export function describeOtelOptions(settings: OtelSettings): Record<string, unknown> {
  let endpoint = settings.endpoint
  if (endpoint) {
    const url = new URL(endpoint)
    if (url.password) url.password = 'redacted'
    endpoint = url.toString()
  }
  const headers = settings.headers && Object.fromEntries(Object.keys(settings.headers).map((name) => [name, '[redacted]']))
  return { ...settings, endpoint, headers }
}
