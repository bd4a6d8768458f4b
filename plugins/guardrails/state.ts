/**
 * One request's guardrail state (in `ctx.state.guardrails`): its rule set, its decisions, the verdicts still to
 * come (flag-only checks that run beside the call or after the reply), and how decisions and check outcomes
 * turn into what the client gets.
 */
import { scrubUpstreamMessage } from '../../core/index.ts'
import type { Clock, PluginContext, RequestContext } from '../../core/index.ts'
import type { Phase, Span } from './detector.ts'
import type { CheckOutcome } from './async-checks.ts'
import type { RuleSet } from './rule-sets.ts'
import type { ScanSink } from './scanner.ts'
import { RequestDecisions, blockedError, unavailableError } from './decisions.ts'

/** What every phase needs from the plugin. */
export interface Env {
  clock: Clock
  logger: PluginContext['logger']
  replacement: (rule: string) => string
}

export interface GuardState {
  set: RuleSet
  decisions: RequestDecisions
  /** Verdicts of checks still running (flag-only): awaited before the record is written. */
  pending: Promise<void>[]
  /** The whole reply was checked in the `call` hook: the stream handlers have nothing left to do. */
  outputChecked: boolean
  /** The reply's text as the client got it, for the checks that judge it afterwards. */
  reply?: string[]
}

export const stateOf = (ctx: RequestContext): GuardState | undefined => ctx.state.guardrails

export function sinkFor(state: GuardState, phase: Phase): ScanSink {
  return {
    hit: (rule, action) => state.decisions.note(rule, phase, action),
    block(rule) {
      state.decisions.note(rule, phase, 'block')
      throw blockedError(rule, phase)
    },
  }
}

/** What `redact` checks asked to replace: spans of the joined text, or (undefined) all of it. */
export interface Redaction {
  rule: string
  spans?: Span[]
}

/**
 * Settles check outcomes in order: a hit is counted and acted on (a block throws), a failure follows the
 * check's fail mode (closed throws a 503). Returns the redactions asked for.
 */
export function settleOutcomes(outcomes: readonly CheckOutcome[], phase: Phase, state: GuardState, env: Env): Redaction[] {
  const redactions: Redaction[] = []
  for (const outcome of outcomes) {
    const { check } = outcome
    if (outcome.result === 'pass') continue
    if (outcome.result === 'failed') {
      // The reason is the operator's to see, scrubbed (key shapes, control characters) and cut short.
      const reason = scrubUpstreamMessage(String((outcome.error as Error)?.message ?? outcome.error))
      env.logger.warn(`guardrail "${check.rule}" (${phase}) could not run, failing ${check.failMode}: ${reason}`)
      if (check.failMode === 'open') {
        state.decisions.note(check.rule, phase, 'fail_open')
        continue
      }
      state.decisions.note(check.rule, phase, 'fail_closed')
      throw unavailableError(check.rule, phase)
    }
    state.decisions.note(check.rule, phase, check.action)
    if (check.action === 'block') throw blockedError(check.rule, phase)
    if (check.action === 'redact') redactions.push({ rule: check.rule, spans: outcome.spans })
  }
  return redactions
}

/** Redactions merged into one: all spans, or everything when one of them had none. */
export function mergedSpans(redactions: readonly Redaction[]): Span[] | undefined {
  return redactions.some((r) => !r.spans) ? undefined : redactions.flatMap((r) => r.spans!)
}
