/**
 * `upstreamProvider`: the plugin every HTTP provider is — validated options shown redacted, one pooled upstream
 * client per provider, a Provider registered in setup and closed on teardown. A provider plugin states only
 * what differs: base URL and auth headers, the formats it speaks, and where one request goes.
 */
import { createUpstreamClient } from './upstream.ts'
import { redactOptions } from './redact.ts'
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
}

export function upstreamProvider(spec: UpstreamProviderSpec): SluicePlugin {
  return {
    name: spec.name,
    options: redactOptions(spec.options),
    setup(gw) {
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
            headers: route.headers,
            body: request.body,
            format: request.format,
            stream: route.stream ?? request.stream,
            signal: request.signal,
            timeouts: request.timeouts,
          })
        },
        close: () => client.close(),
      })
    },
  }
}
