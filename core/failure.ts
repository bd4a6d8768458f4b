/**
 * What went wrong with one upstream attempt, in the terms the `call` plugins (retry, breaker, fallback)
 * decide on. Shared here so they all classify a failure the same way.
 */
import { GatewayError } from './errors.ts'
import { retryAfterSeconds } from './upstream.ts'
import type { ProviderResponse } from './types.ts'
import { z } from './options.ts'

export type FailureKind = 'status' | 'timeout' | 'connection' | 'circuit_open'

export interface UpstreamFailure {
  kind: FailureKind
  status: number
  /** The upstream's retry-after / retry-after-ms, in ms. */
  retryAfterMs?: number
}

/** An HTTP status, a status class, or an error kind. */
export type FailureMatcher = number | '4xx' | '5xx' | 'timeout' | 'connection'

export const failureMatcherSchema = z.union([
  z.number().int().min(400).max(599),
  z.enum(['4xx', '5xx', 'timeout', 'connection']),
])

/**
 * Marks a refusal by this gateway's own breaker (a global symbol, so every plugin's copy agrees). An upstream
 * that is itself a gateway may answer 503 `circuit_open` too: that one is an upstream failure like any other.
 */
const LOCAL_CIRCUIT_OPEN = Symbol.for('sluice.circuitOpen')

export function markCircuitOpen<E extends GatewayError>(error: E): E {
  Object.defineProperty(error, LOCAL_CIRCUIT_OPEN, { value: true })
  return error
}

/** Undefined when the error is not an upstream failure (a client abort, a bug, a gate's refusal). */
export function failureOfError(error: unknown): UpstreamFailure | undefined {
  if (!GatewayError.is(error) || !error.upstream) return undefined
  const retryAfterMs = error.retryAfter === undefined ? undefined : error.retryAfter * 1000
  const status = error.upstreamStatus ?? error.status
  if ((error as any)[LOCAL_CIRCUIT_OPEN] === true) return { kind: 'circuit_open', status, retryAfterMs }
  if (error.type === 'timeout_error') return { kind: 'timeout', status, retryAfterMs }
  if (error.code === 'connection_error') return { kind: 'connection', status, retryAfterMs }
  return { kind: 'status', status, retryAfterMs }
}

/** A provider may also resolve with an error status; undefined for a success. */
export function failureOfResponse(response: ProviderResponse, now: number): UpstreamFailure | undefined {
  if (response.status < 400) return undefined
  const seconds = retryAfterSeconds(response.headers, now)
  return { kind: 'status', status: response.status, retryAfterMs: seconds === undefined ? undefined : seconds * 1000 }
}

/** The error a discarded error response stands for, if it ends up being the final outcome. */
export function errorOfResponse(response: ProviderResponse, failure: UpstreamFailure): GatewayError {
  return new GatewayError(failure.status, `upstream answered ${failure.status}`, {
    upstream: true,
    retryAfter: failure.retryAfterMs === undefined ? undefined : failure.retryAfterMs / 1000,
    cause: response.body,
  })
}

/** Frees a response we will not hand on: ending a stream's iteration (bytes or deltas) cancels the upstream request. */
export function discard(response: ProviderResponse): void {
  for (const stream of [response.stream, response.deltas]) {
    if (!stream) continue
    try {
      const ended = stream[Symbol.asyncIterator]().return?.()
      if (ended) ended.catch(() => {})
    } catch {}
  }
}

/** A circuit_open error never matches: it is answered by skipping the target, not by repeating it. */
export function compileMatchers(list: readonly FailureMatcher[]): (failure: UpstreamFailure) => boolean {
  const statuses = new Set(list.filter((m): m is number => typeof m === 'number'))
  const any4xx = list.includes('4xx')
  const any5xx = list.includes('5xx')
  const timeouts = list.includes('timeout')
  const connections = list.includes('connection')
  return (failure) => {
    switch (failure.kind) {
      case 'circuit_open': return false
      case 'timeout': return timeouts
      case 'connection': return connections
      default:
        return statuses.has(failure.status)
          || (any4xx && failure.status >= 400 && failure.status < 500)
          || (any5xx && failure.status >= 500 && failure.status < 600)
    }
  }
}
