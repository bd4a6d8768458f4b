/**
 * Every guardrail decision, counted in `/metrics` and written on the request's record, and the errors a client
 * gets. Nothing here ever holds the matched text: a decision is a rule's name, a phase and an action.
 */
import { GatewayError, counter } from '../../core/index.ts'
import type { Action, Phase } from './detector.ts'

/** What a rule did: an action on a match, or how a check that could not run was settled. */
export type Decision = Action | 'fail_open' | 'fail_closed'

const decisions = counter(
  'sluice_guardrail_decisions_total',
  'Guardrail decisions by rule, phase (input, output) and action (block, redact, flag, fail_open, fail_closed)',
  ['rule', 'phase', 'action'],
)

/** The record tag a rule's decisions go under: `guardrail:<rule>` = `input:redact,output:flag`. */
export const TAG_PREFIX = 'guardrail:'

/** One request's decisions: each (rule, phase, action) counted once however many matches it had. */
export class RequestDecisions {
  readonly #byRule = new Map<string, Set<string>>()

  note(rule: string, phase: Phase, action: Decision): void {
    let seen = this.#byRule.get(rule)
    if (!seen) this.#byRule.set(rule, (seen = new Set()))
    const entry = `${phase}:${action}`
    if (seen.has(entry)) return
    seen.add(entry)
    decisions.inc({ rule, phase, action })
  }

  get size(): number {
    return this.#byRule.size
  }

  /** The record's tags with this request's decisions added (a new object: the principal's own tags are shared). */
  tagged(tags: Record<string, string> | undefined): Record<string, string> {
    const out = { ...tags }
    for (const [rule, seen] of this.#byRule) out[`${TAG_PREFIX}${rule}`] = [...seen].join(',')
    return out
  }
}

const PHASE_SUBJECT: Record<Phase, string> = { input: 'The request', output: 'The response' }

/** A block: 400 in the caller's shape, naming the rule and never what it matched. */
export function blockedError(rule: string, phase: Phase, detail?: string): GatewayError {
  return new GatewayError(400, `${PHASE_SUBJECT[phase]} was blocked by guardrail "${rule}"${detail ? `: ${detail}` : ''}.`, {
    type: 'invalid_request_error', code: 'guardrail_blocked',
  })
}

/** A fail-closed check that could not run: the gateway's own failure, so 503 (not counted against the upstream). */
export function unavailableError(rule: string, phase: Phase): GatewayError {
  return new GatewayError(503, `${PHASE_SUBJECT[phase]} was refused: guardrail "${rule}" could not run.`, {
    type: 'api_error', code: 'guardrail_unavailable',
  })
}
