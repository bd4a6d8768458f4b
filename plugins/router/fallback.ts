/**
 * The router's `call` hook, outermost of the resilience hooks: walks the plan, skipping targets whose circuit
 * is open (asking the breaker, so they cost no time), and moves to the next target when an attempt fails in a
 * way `fallbackOn` names. Never after the client got a byte: by then `call` has resolved.
 */
import { GatewayError } from '../../core/index.ts'
import type { Attempt, CallNext, Clock, ProviderResponse, RequestContext, Target } from '../../core/index.ts'
import { compileMatchers, discard, markCircuitOpen, errorOfResponse, failureOfError, failureOfResponse, type FailureMatcher, type UpstreamFailure } from '../../core/index.ts'
import type { TargetStats } from './stats.ts'

/** What the router leaves in `ctx.state.router`. */
export interface RouterState {
  alias?: string
  fallbackOn?: (failure: UpstreamFailure) => boolean
  /** Targets skipped because their circuit was open, as `provider/model`. */
  skipped: string[]
  /**
   * The first target's in-flight slot, taken at route time so a burst of requests routed before any of them
   * reached `call` still spreads over the targets. Released when the call starts, or by `record`.
   */
  reserved?: string
}

export function releaseReservation(state: RouterState | undefined, stats: TargetStats): void {
  if (state?.reserved === undefined) return
  stats.ended(state.reserved)
  state.reserved = undefined
}

export interface CircuitGate {
  /** Ms until the target admits an attempt; 0 when it would now. */
  blockedFor(target: Target): number
}

export function allOpenError(soonestMs: number): GatewayError {
  return markCircuitOpen(new GatewayError(503, 'every target of this model is unavailable (circuit open); try again later', {
    type: 'api_error',
    code: 'circuit_open',
    upstream: true,
    retryAfter: Math.max(1, Math.ceil(soonestMs / 1000)),
  }))
}

export function createFallbackHook(options: {
  fallbackOn: readonly FailureMatcher[]
  stats: TargetStats
  clock: () => Clock
  gate: () => CircuitGate | undefined
}) {
  const defaultFallback = compileMatchers(options.fallbackOn)
  const { stats } = options

  return async function fallbackCall(ctx: RequestContext, attempt: Attempt, next: CallNext): Promise<ProviderResponse> {
    const clock = options.clock()
    const state: RouterState = (ctx.state.router ??= { skipped: [] })
    releaseReservation(state, stats)
    const fallsBack = state.fallbackOn ?? defaultFallback
    const gate = options.gate()
    const plan = ctx.plan
    const start = plan.indexOf(attempt.target)
    const count = start === -1 ? 1 : plan.length - start
    let lastError: unknown
    let soonestOpenMs = Infinity

    for (let i = 0; i < count; i++) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      const target = start === -1 ? attempt.target : plan[start + i]!
      const key = `${target.provider}/${target.model}`
      const blockedMs = gate?.blockedFor(target) ?? 0
      if (blockedMs > 0) {
        soonestOpenMs = Math.min(soonestOpenMs, blockedMs)
        state.skipped.push(key)
        continue
      }

      const current = i === 0 && attempt.number === ctx.attempts + 1 ? attempt : { target, number: ctx.attempts + 1 }
      const startedAt = clock.now()
      stats.started(key)
      let response: ProviderResponse
      try {
        response = await next(current)
      } catch (error) {
        const failure = failureOfError(error)
        if (!failure || ctx.signal.aborted) throw error
        if (failure.kind === 'circuit_open') {
          soonestOpenMs = Math.min(soonestOpenMs, failure.retryAfterMs ?? 1000)
          state.skipped.push(key)
          continue
        }
        if (!fallsBack(failure)) throw error
        lastError = error
        continue
      } finally {
        stats.ended(key)
      }

      const failure = failureOfResponse(response, clock.now())
      if (!failure) {
        stats.observeLatency(key, clock.now() - startedAt)
        return response
      }
      if (!fallsBack(failure) || i === count - 1) return response
      discard(response)
      lastError = errorOfResponse(response, failure)
    }

    if (lastError !== undefined) throw lastError
    throw allOpenError(soonestOpenMs === Infinity ? 1000 : soonestOpenMs)
  }
}
