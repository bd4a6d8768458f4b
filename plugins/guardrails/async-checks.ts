/**
 * Checks that may take time — the operator's own functions and model verdicts — run with a deadline on the
 * gateway's clock and a fail mode: a check that throws, times out or gives no readable answer lets the request
 * through (`open`, counted and tagged `fail_open`) or refuses it (`closed`, a 503).
 */
import type { Clock, RequestContext } from '../../core/index.ts'
import type { Action, Phase, Span } from './detector.ts'

export interface CheckInfo {
  phase: Phase
  ctx: RequestContext
  /** Aborted when the check's deadline passes or the client goes away. */
  signal: AbortSignal
}

/**
 * An operator's check: `true` (or spans) when the text breaks the rule. Spans say what `redact` replaces; a
 * `true` with `redact` replaces the whole text. On input the text is every message's text joined by blank
 * lines (after the built-in redactions); on output it is the reply's text.
 */
export type CustomCheck = (text: string, info: CheckInfo) => boolean | Span[] | void | Promise<boolean | Span[] | void>

export interface AsyncCheck {
  rule: string
  action: Action
  failMode: 'open' | 'closed'
  timeoutMs: number
  run: CustomCheck
}

export type CheckOutcome =
  | { check: AsyncCheck; result: 'pass' }
  | { check: AsyncCheck; result: 'hit'; spans?: Span[] }
  | { check: AsyncCheck; result: 'failed'; error: unknown }

class CheckTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'CheckTimeout'
  }
}

/** Runs `run` until it settles or `ms` pass on `clock`, whichever is first; the loser is aborted. */
async function withDeadline<T>(run: (signal: AbortSignal) => Promise<T>, ms: number, clock: Clock, parent: AbortSignal): Promise<T> {
  const check = new AbortController()
  const timer = new AbortController()
  const onAbort = () => check.abort(parent.reason)
  if (parent.aborted) onAbort()
  else parent.addEventListener('abort', onAbort, { once: true })
  try {
    return await Promise.race([
      run(check.signal),
      clock.sleep(ms, timer.signal).then(() => {
        const error = new CheckTimeout(ms)
        check.abort(error)
        throw error
      }),
    ])
  } finally {
    timer.abort()
    parent.removeEventListener('abort', onAbort)
  }
}

async function runOne(check: AsyncCheck, text: string, phase: Phase, ctx: RequestContext, clock: Clock): Promise<CheckOutcome> {
  try {
    const result = await withDeadline(async (signal) => check.run(text, { phase, ctx, signal }), check.timeoutMs, clock, ctx.signal)
    if (Array.isArray(result)) return result.length > 0 ? { check, result: 'hit', spans: result } : { check, result: 'pass' }
    return result === true ? { check, result: 'hit' } : { check, result: 'pass' }
  } catch (error) {
    return { check, result: 'failed', error }
  }
}

/** Runs the checks side by side on one text. */
export function runChecks(checks: readonly AsyncCheck[], text: string, phase: Phase, ctx: RequestContext, clock: Clock): Promise<CheckOutcome[]> {
  return Promise.all(checks.map((check) => runOne(check, text, phase, ctx, clock)))
}
