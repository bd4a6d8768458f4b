/**
 * What the client is told when an upstream answers with something other than a success. Upstream error text is
 * passed on (it is usually the best explanation of a client mistake) but scrubbed of anything key-shaped; a
 * provider refusing the *gateway's* credentials is the gateway's problem, not the caller's, so it is a 502 that
 * says so; a redirect or an empty success is a 502 too.
 */
import { GatewayError } from './errors.ts'
import { upstreamErrorInfo } from './formats/index.ts'
import { redact } from './logger.ts'
import { retryAfterSeconds } from './upstream.ts'
import { peekBody } from './view.ts'
import type { ProviderResponse } from './types.ts'

const MAX_MESSAGE = 1_000

/** A client-safe version of an upstream's error message: secrets and control characters out, length capped. */
export function scrubUpstreamMessage(message: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = redact(message).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
  return clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE)}…` : clean
}

/** Whether a provider response is a usable success: a 2xx with a body or a stream. */
export function isSuccess(response: ProviderResponse): boolean {
  return response.status >= 200 && response.status < 300
    && (response.stream !== undefined || response.deltas !== undefined || response.output !== undefined || peekBody(response) !== undefined)
}

/** The error a non-success provider response stands for. */
export function upstreamError(response: ProviderResponse): GatewayError {
  const { status } = response
  if (status >= 300 && status < 400) {
    return new GatewayError(502, `the upstream provider answered with a redirect (${status}), which the gateway does not follow`, {
      type: 'api_error', code: 'upstream_redirect', upstream: true, upstreamStatus: status,
    })
  }
  if (status < 300) {
    return new GatewayError(502, `the upstream provider answered ${status} without a body`, { type: 'api_error', code: 'invalid_upstream_response', upstream: true, upstreamStatus: status })
  }
  if (status === 401 || status === 403 || status === 407) {
    return new GatewayError(502, `the upstream provider refused the gateway's credentials (${status}); the gateway's operator must fix the provider key`, {
      type: 'api_error', code: 'upstream_auth_failed', upstream: true, upstreamStatus: status,
    })
  }
  const info = upstreamErrorInfo(response.format, status, peekBody(response))
  return new GatewayError(status, scrubUpstreamMessage(info.message), {
    type: info.type,
    code: info.code,
    param: info.param,
    upstream: true,
    retryAfter: retryAfterSeconds(response.headers),
  })
}
