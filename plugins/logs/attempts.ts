/**
 * The plugin's `call` hook, innermost of the `call` chain (`order: 100`): every attempt the router, retry or a
 * user's plugin makes passes through it once, so each one is noted with its target, status and timing. A cache
 * hit makes no attempt; a target skipped because its circuit was open is named by the router (`skipped`).
 */
import { GatewayError, failureOfError } from '../../core/index.ts'
import type { Attempt, CallNext, PluginContext, ProviderResponse, RequestContext } from '../../core/index.ts'
import type { AttemptEntry } from './entry.ts'
import type { ResponseCollector } from './capture.ts'

/** What the plugin keeps per request in `ctx.state.logs`. */
export interface LogState {
  attempts: AttemptEntry[]
  collector?: ResponseCollector
  /** The request's draw for content sampling (one per request). */
  draw?: number
}

export const STATE = 'logs'
const MAX_ATTEMPTS = 32
const MAX_ERROR = 300

export function stateOf(ctx: RequestContext): LogState {
  return (ctx.state[STATE] ??= { attempts: [] })
}

export async function noteAttempt(ctx: RequestContext, attempt: Attempt, next: CallNext, gw: PluginContext): Promise<ProviderResponse> {
  const state = stateOf(ctx)
  const startedAt = gw.clock.now()
  const entry: AttemptEntry = {
    number: attempt.number,
    provider: attempt.target.provider,
    model: attempt.target.model,
    status: 0,
    outcome: 'pending',
    offsetMs: Math.max(0, startedAt - ctx.startedAt),
    durationMs: 0,
  }
  if (state.attempts.length < MAX_ATTEMPTS) state.attempts.push(entry)
  try {
    const response = await next(attempt)
    entry.durationMs = gw.clock.now() - startedAt
    entry.status = response.status
    entry.outcome = response.status < 400 ? 'ok' : 'status'
    return response
  } catch (error) {
    entry.durationMs = gw.clock.now() - startedAt
    const failure = failureOfError(error)
    entry.status = failure?.status ?? (GatewayError.is(error) ? error.status : ctx.signal.aborted ? 499 : 500)
    entry.outcome = failure?.kind ?? (ctx.signal.aborted ? 'aborted' : 'error')
    // The gateway's own words (scrubbed upstream messages); redacted again when the entry is built.
    if (GatewayError.is(error) && error.message) entry.error = error.message.slice(0, MAX_ERROR)
    throw error
  }
}
