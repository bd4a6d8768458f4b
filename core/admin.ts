/** The admin route guard: `/admin/*` answers only to the configured admin key, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { H3, H3Event } from 'h3'
import type { ConsolaInstance } from 'consola'
import { GatewayError } from './errors.ts'
import { typeForStatus } from './formats/index.ts'
import type { RouteMethod } from './types.ts'

const digest = (value: string) => createHash('sha256').update(value).digest()

/** Compares two secrets in time independent of where they differ (both are hashed first, so lengths leak nothing). */
export function constantTimeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected))
}

const GEMINI_PATH = /^\/v1(?:beta)?\/models\//

// Not `instanceof`: srvx's requests and headers are its own classes.
function isRequest(value: Headers | Request): value is Request {
  return typeof (value as Request).url === 'string' && typeof (value as Request).method === 'string'
}

/**
 * The key a client presented: `Authorization: Bearer <key>`, `x-api-key: <key>` or `x-goog-api-key: <key>`; given
 * the whole request, also Gemini's `?key=` on Gemini paths (the gateway never logs URLs).
 */
export function presentedKey(source: Headers | Request): string | undefined {
  const request = isRequest(source) ? source : undefined
  const headers = request ? request.headers : source as Headers
  const authorization = headers.get('authorization')
  if (authorization && /^bearer\s+/i.test(authorization)) return authorization.replace(/^bearer\s+/i, '').trim() || undefined
  const header = headers.get('x-api-key')?.trim() || headers.get('x-goog-api-key')?.trim()
  if (header || !request) return header || undefined
  const url = new URL(request.url)
  return GEMINI_PATH.test(url.pathname) ? url.searchParams.get('key')?.trim() || undefined : undefined
}

export function adminError(status: number, message: string, type = typeForStatus(status), code: string | null = null): Response {
  return Response.json({ error: { message, type, code } }, { status })
}

export function createAdminMount(app: H3, adminKey: string | undefined, logger: ConsolaInstance) {
  const expected = adminKey ? digest(adminKey) : undefined
  const isAdmin = (headers: Headers) => {
    const given = presentedKey(headers)
    return !!expected && !!given && timingSafeEqual(digest(given), expected)
  }

  function mount(method: RouteMethod, path: string, handler: (event: H3Event) => unknown) {
    app.on(method, `/admin${path}`, async (event) => {
      if (!expected) return adminError(404, 'the admin API is off: set adminKey in the config to enable it', 'not_found_error')
      if (!isAdmin(event.req.headers)) return adminError(401, 'a valid admin key is required', 'authentication_error')
      try {
        return await handler(event)
      } catch (error) {
        if (GatewayError.is(error)) return adminError(error.status, error.message, error.type, error.code ?? null)
        logger.error(`admin ${method} ${path} failed:`, (error as Error)?.stack ?? error)
        return adminError(500, 'internal gateway error', 'api_error')
      }
    })
  }
  return { mount, isAdmin }
}
