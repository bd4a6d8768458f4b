/**
 * The breaker `call` hook: counts every single attempt against its target's circuit, and refuses at once
 * (503 `circuit_open` with retry-after) while the circuit is open or its probes are busy. A stream that
 * breaks after its first byte (idle/total timeout, connection lost) counts as a failure too, whether it comes
 * as SSE bytes (`stream`) or in the neutral view (`deltas`).
 */
import { GatewayError } from '../../core/index.ts'
import type { Attempt, CallNext, Clock, ProviderResponse, RequestContext } from '../../core/index.ts'
import { compileMatchers, failureOfError, markCircuitOpen, failureOfResponse, type FailureMatcher } from '../../core/index.ts'
import { targetKey, type CircuitRegistry } from './registry.ts'
import type { Circuit, Permit } from './circuit.ts'
import { judgeStream, type StreamVerdict } from './stream-verdict.ts'

export function circuitOpenError(key: string, retryAfterMs: number): GatewayError {
  return markCircuitOpen(new GatewayError(503, `circuit open for ${key}`, {
    type: 'api_error',
    code: 'circuit_open',
    upstream: true,
    retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  }))
}

export function createBreakerHook(registry: CircuitRegistry, failOn: readonly FailureMatcher[], getClock: () => Clock) {
  const counts = compileMatchers(failOn)

  return async function breakerCall(ctx: RequestContext, attempt: Attempt, next: CallNext): Promise<ProviderResponse> {
    const clock = getClock()
    const key = targetKey(attempt.target)
    const circuit = registry.get(key)
    const permit = circuit.acquire(clock.now())
    if ('retryAfterMs' in permit) throw circuitOpenError(key, permit.retryAfterMs)

    let response: ProviderResponse
    try {
      response = await next(attempt)
    } catch (error) {
      const failure = failureOfError(error)
      // A client abort, a bug or an inner refusal says nothing about the upstream's health.
      if (!failure || failure.kind === 'circuit_open' || ctx.signal.aborted) circuit.release(permit)
      else if (counts(failure)) circuit.failure(permit, clock.now(), failure.retryAfterMs)
      else circuit.success(permit, clock.now())
      throw error
    }
    const failure = failureOfResponse(response, clock.now())
    if (failure && counts(failure)) circuit.failure(permit, clock.now(), failure.retryAfterMs)
    // A probe is judged at the first byte (the upstream answers): holding it for a whole stream would keep
    // every other request off this target meanwhile. Other attempts on a stream count once it has ended.
    else if (!(response.stream || response.deltas) || permit.probe || failure) circuit.success(permit, clock.now())
    else if (response.stream) return { ...response, stream: judgeStream(response.stream, streamVerdict(ctx, circuit, permit)) }
    else return { ...response, deltas: judgeStream(response.deltas!, streamVerdict(ctx, circuit, permit)) }
    return response
  }

  function streamVerdict(ctx: RequestContext, circuit: Circuit, permit: Permit): StreamVerdict {
    return {
      ended: () => circuit.success(permit, getClock().now()),
      failed(error) {
        const failure = failureOfError(error)
        if (!failure || ctx.signal.aborted) circuit.release(permit)
        else if (counts(failure)) circuit.failure(permit, getClock().now(), failure.retryAfterMs)
        else circuit.success(permit, getClock().now())
      },
      abandoned: () => circuit.release(permit),
    }
  }
}
