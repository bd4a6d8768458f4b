/**
 * Checks at the edge, before any route: which Host names and content types a gateway accepts, and CORS.
 *
 * A gateway with no auth plugin serves anyone who can reach it, so it must not be reachable from the web pages a
 * developer's browser visits: a `Host` that is not one the server listens on is refused with 421 (DNS rebinding),
 * and an API request whose body is not JSON with 415 (a cross-site "simple" POST can only send text/plain, form or
 * multipart bodies without a CORS preflight, and no preflight is answered unless `server.cors` allows the origin).
 * With an auth plugin these checks are off, except the Host check when `server.allowedHosts` is set.
 */
import { networkInterfaces, hostname as machineName } from 'node:os'
import type { H3Event } from 'h3'
import { errorBody } from './formats/index.ts'
import type { ResolvedServerConfig } from './config.ts'
import { apiOfPath } from './inbound.ts'

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1']
/** Probes carry no data and are often sent with a Host the gateway cannot know (a Kubernetes service name). */
const PROBES = new Set(['/health', '/ready'])
const CORS_METHODS = 'GET, POST, DELETE, OPTIONS'
const CORS_EXPOSED = [
  'x-request-id', 'x-client-request-id', 'x-sluice-provider', 'x-sluice-model', 'x-sluice-attempts', 'retry-after',
  'retry-after-ms', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens',
].join(', ')
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/

/** An error response in the shape of the API the path belongs to. */
export function edgeError(pathname: string, status: number, message: string, type: string, code: string, headers: Record<string, string> = {}): Response {
  const body = errorBody(apiOfPath(pathname), { status, message, type, code, param: null })
  return Response.json(body, { status, headers })
}

/** `Host` header value → lower-case name without port or IPv6 brackets. */
export function hostNameOf(host: string): string {
  let name = host.trim().toLowerCase()
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']') >= 0 ? name.indexOf(']') : undefined)
  else if (name.indexOf(':') === name.lastIndexOf(':')) name = name.replace(/:\d*$/, '')
  return name.endsWith('.') ? name.slice(0, -1) : name
}

function isLoopback(name: string): boolean {
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)
}

/** The names a client can reach a server bound to `host` by. */
export function listenedHostNames(host: string): Set<string> {
  const bound = hostNameOf(host)
  const names = new Set<string>()
  if (bound === '0.0.0.0' || bound === '::' || bound === '') {
    for (const name of LOOPBACK_NAMES) names.add(name)
    for (const addresses of Object.values(networkInterfaces())) for (const address of addresses ?? []) names.add(address.address.toLowerCase())
    names.add(machineName().toLowerCase())
    return names
  }
  names.add(bound)
  if (isLoopback(bound)) for (const name of LOOPBACK_NAMES) names.add(name)
  return names
}

export interface EdgeGuardOptions {
  server: ResolvedServerConfig
  /** Whether a plugin registered an `auth` hook; asked per request because plugins register during setup. */
  hasAuth: () => boolean
  /** Whether a path's POST body must be JSON on a keyless gateway (the model API routes). */
  isJsonApiPath: (pathname: string) => boolean
}

export interface EdgeGuard {
  /** The h3 middleware: answers a refusal or a CORS preflight, or returns undefined to go on. */
  middleware(event: H3Event): Response | undefined
  /**
   * Adds the CORS headers to the final response of an allowed origin. Done on the response object rather than
   * through h3's staged headers, which would make h3 copy the response and turn a streamed body into a web stream.
   */
  decorate(request: Request, response: Response): Response
}

export function createEdgeGuard(options: EdgeGuardOptions): EdgeGuard {
  const { server, hasAuth } = options
  const allowed = listenedHostNames(server.host)
  for (const name of server.allowedHosts ?? []) allowed.add(hostNameOf(name))
  const origins = server.cors ? new Set(server.cors) : undefined

  const allowedOrigin = (request: Request) => {
    const origin = request.headers.get('origin')
    return origin && origins?.has(origin) ? origin : undefined
  }

  function middleware(event: H3Event): Response | undefined {
    const { pathname } = event.url
    const keyless = !hasAuth()
    if ((keyless || server.allowedHosts) && !PROBES.has(pathname)) {
      // A request without Host is not from a browser (HTTP/1.0, or served in-process): nothing to rebind.
      const host = event.req.headers.get('host')
      if (host !== null && !allowed.has(hostNameOf(host))) {
        return edgeError(pathname, 421, 'this gateway does not answer to that Host name: add it to server.allowedHosts', 'invalid_request_error', 'misdirected_request')
      }
    }
    if (event.req.method === 'OPTIONS' && event.req.headers.has('access-control-request-method')) {
      const origin = allowedOrigin(event.req)
      if (origin) return preflight(event, origin)
    }
    if (keyless && event.req.method === 'POST' && options.isJsonApiPath(pathname) && !JSON_CONTENT_TYPE.test(event.req.headers.get('content-type') ?? '')) {
      return edgeError(pathname, 415, 'the request body must be JSON: send content-type: application/json', 'invalid_request_error', 'unsupported_media_type')
    }
    return undefined
  }

  function decorate(request: Request, response: Response): Response {
    const origin = origins && allowedOrigin(request)
    if (!origin || response.headers.has('access-control-allow-origin')) return response
    try {
      response.headers.set('access-control-allow-origin', origin)
      response.headers.append('vary', 'origin')
      response.headers.set('access-control-expose-headers', CORS_EXPOSED)
      return response
    } catch {
      // Immutable headers (a Response.redirect, say): copy them onto a new response around the same body.
      const headers = new Headers(response.headers)
      headers.set('access-control-allow-origin', origin)
      headers.append('vary', 'origin')
      headers.set('access-control-expose-headers', CORS_EXPOSED)
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
    }
  }

  return { middleware, decorate }
}

function preflight(event: H3Event, origin: string): Response {
  const requested = event.req.headers.get('access-control-request-headers')
  const headers: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': CORS_METHODS,
    'access-control-max-age': '600',
    vary: 'origin',
  }
  if (requested && HEADER_LIST.test(requested)) headers['access-control-allow-headers'] = requested
  return new Response(null, { status: 204, headers })
}
