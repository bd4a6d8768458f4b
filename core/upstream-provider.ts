/**
 * `upstreamProvider`: the plugin every HTTP provider is — validated options shown redacted, one pooled upstream
 * client per provider, a Provider registered in setup and closed on teardown. A provider plugin states only
 * what differs: base URL and auth headers, the formats it speaks, and where one request goes.
 */
import { clientLinkOf, createUpstreamClient } from './upstream.ts'
import { redactOptions } from './redact.ts'
import { upstreamError } from './upstream-errors.ts'
import type { ProviderRequest, SluicePlugin, Timeouts, WireFormat } from './types.ts'

/** Where one request goes; `stream` overrides the request's own flag (e.g. Gemini embeddings never stream). */
export interface UpstreamRoute {
  path: string
  query?: Record<string, string>
  headers?: Record<string, string>
  stream?: boolean
}

export interface UpstreamProviderSpec {
  name: string
  /** The validated options, for `sluice check` and the dashboard (secrets are redacted here). */
  options: Record<string, unknown>
  baseURL: string
  /** Auth and extra headers sent with every request. */
  headers: Record<string, string>
  timeouts?: Timeouts
  connections?: number
  formats: WireFormat[]
  models?: string[]
  route(request: ProviderRequest): UpstreamRoute
  /** Where the provider counts tokens, and how to read its answer (a provider without one is estimated). */
  countTokens?: { route(request: ProviderRequest): UpstreamRoute; read(body: unknown): number | undefined }
}

export function upstreamProvider(spec: UpstreamProviderSpec): SluicePlugin {
  return {
    name: spec.name,
    options: redactOptions(spec.options),
    setup(gw) {
      const ownHeaders = new Set(Object.keys(spec.headers).map((name) => name.toLowerCase()))
      const client = createUpstreamClient({ baseURL: spec.baseURL, headers: spec.headers, timeouts: spec.timeouts, connections: spec.connections })
      gw.registerProvider({
        name: spec.name,
        formats: spec.formats,
        models: spec.models,
        call(request) {
          const route = spec.route(request)
          return client.request({
            path: route.path,
            query: route.query,
            headers: request.headers ? withAttemptHeaders(request.headers, route.headers ?? {}, ownHeaders) : route.headers,
            body: request.body,
            format: request.format,
            stream: route.stream ?? request.stream,
            signal: clientLinkOf(request),
            timeouts: request.timeouts,
          })
        },
        countTokens: spec.countTokens && (async (request) => {
          const route = spec.countTokens!.route(request)
          const response = await client.request({
            path: route.path, query: route.query, headers: route.headers, body: request.body,
            format: request.format, stream: false, signal: clientLinkOf(request), timeouts: request.timeouts,
          })
          const count = response.status === 200 ? spec.countTokens!.read(response.body) : undefined
          if (count === undefined) throw upstreamError(response)
          return count
        }),
        close: () => client.close(),
      })
    },
  }
}

/**
 * An attempt's extra headers (`Attempt.headers`) under the provider's own request headers: `own` (auth, route) and
 * `reserved` (names the provider's client sends anyway) win a clash, names compared in any case.
 */
export function withAttemptHeaders(extra: Record<string, string> | undefined, own: Record<string, string>, reserved?: Set<string>): Record<string, string> {
  if (!extra) return own
  const taken = new Set(Object.keys(own).map((name) => name.toLowerCase()))
  const out: Record<string, string> = {}
  for (const name in extra) {
    const lower = name.toLowerCase()
    if (!taken.has(lower) && !reserved?.has(lower)) out[name] = extra[name]!
  }
  return Object.assign(out, own)
}
