/** The retry `call` hook: repeats one target with backoff while the failure is retryable and the budget lasts. */
import type { Attempt, CallNext, Clock, ProviderResponse, RequestContext } from '../../core/index.ts'
import { retryDelayMs } from './backoff.ts'
import { compileMatchers, discard, failureOfError, failureOfResponse, type UpstreamFailure } from '../../core/index.ts'
import type { RetrySettings } from './options.ts'

/** Per-request state, in `ctx.state.retry`. */
export interface RetryState {
  /** Retries made so far across every target of the request. */
  retries: number
}

type Outcome = { response: ProviderResponse } | { error: unknown }

export function createRetryHook(settings: RetrySettings, getClock: () => Clock) {
  const retryable = compileMatchers(settings.retryOn)

  return async function retryCall(ctx: RequestContext, attempt: Attempt, next: CallNext): Promise<ProviderResponse> {
    const clock = getClock()
    const state: RetryState = (ctx.state.retry ??= { retries: 0 })
    let current = attempt
    for (let tries = 1; ; tries++) {
      let outcome: Outcome
      let failure: UpstreamFailure | undefined
      try {
        const response = await next(current)
        failure = failureOfResponse(response, clock.now())
        if (!failure) return response
        outcome = { response }
      } catch (error) {
        failure = failureOfError(error)
        if (!failure) throw error
        outcome = { error }
      }

      const mayRetry = retryable(failure)
        && tries < settings.attempts
        && state.retries < settings.budget.maxRetriesPerRequest
        && !ctx.signal.aborted
      const delay = mayRetry ? retryDelayMs(tries, failure.retryAfterMs, settings, () => clock.random()) : undefined
      if (delay === undefined) {
        if ('response' in outcome) return outcome.response
        throw outcome.error
      }

      if ('response' in outcome) discard(outcome.response)
      state.retries++
      await clock.sleep(delay, ctx.signal)
      if (ctx.signal.aborted) throw ctx.signal.reason
      current = { target: attempt.target, number: ctx.attempts + 1 }
    }
  }
}
