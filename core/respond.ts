/** Turns anything thrown on the request path into an honest status and the calling API's error shape. */
import { FastResponse } from 'srvx'
import { GatewayError } from './errors.ts'
import { isSafeHeaderName, isSafeHeaderValue } from './headers.ts'
import { errorBody, typeForStatus } from './formats/index.ts'
import type { ErrorInfo } from './formats/types.ts'
import type { InboundApi } from './types.ts'

/** The status a client that went away is recorded with (nginx's convention; never sent). */
export const CLIENT_CLOSED = 499

export function isAbort(error: unknown): boolean {
  return (error as any)?.name === 'AbortError' || (error as any)?.code === 'ABORT_ERR'
}

/** Normalises a thrown value. Unknown errors become a 500 whose message hides the internals. */
export function toGatewayError(error: unknown, clientGone: boolean): GatewayError {
  if (GatewayError.is(error)) return error
  if (clientGone || isAbort(error)) return new GatewayError(CLIENT_CLOSED, 'client closed the request', { type: 'client_abort' })
  return new GatewayError(500, 'internal gateway error', { type: 'api_error', cause: error })
}

export function errorInfo(error: GatewayError): ErrorInfo {
  return {
    status: error.status,
    message: error.message,
    type: error.type ?? typeForStatus(error.status),
    code: error.code ?? null,
    param: error.param ?? null,
  }
}

/** Headers an error response carries besides the common ones: its own and `retry-after`. */
export function errorHeaders(error: GatewayError, headers: Record<string, string>): Record<string, string> {
  if (error.headers) {
    for (const [name, value] of Object.entries(error.headers)) {
      if (isSafeHeaderName(name) && isSafeHeaderValue(String(value))) headers[name.toLowerCase()] = String(value)
    }
  }
  if (error.retryAfter !== undefined) headers['retry-after'] = String(Math.max(0, Math.ceil(error.retryAfter)))
  return headers
}

export function errorResponse(api: InboundApi, error: GatewayError, headers: Record<string, string>): Response {
  errorHeaders(error, headers)
  headers['content-type'] = 'application/json'
  // A plugin may throw any status; only an error status Node can write goes out.
  const status = Number.isInteger(error.status) && error.status >= 400 && error.status <= 599 ? error.status : 500
  return new FastResponse(JSON.stringify(errorBody(api, errorInfo(error))), { status, headers }) as Response
}
