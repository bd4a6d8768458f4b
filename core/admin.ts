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

/** The key a client presented: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: Headers): string | undefined {
  const authorization = headers.get('authorization')
  if (authorization && /^bearer\s+/i.test(authorization)) return authorization.replace(/^bearer\s+/i, '').trim() || undefined
  return headers.get('x-api-key')?.trim() || undefined
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
