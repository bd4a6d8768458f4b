/**
 * GCRA (generic cell rate algorithm), the arithmetic of Rust's `governor` crate, as pure functions of a
 * stored theoretical arrival time (TAT) and `now`. No I/O, no clock: both stores (memory, Redis Lua) apply
 * exactly these rules, so the same properties hold for either.
 *
 * A limit of `limit` units per `periodMs` with a burst of `burst` units has an emission interval
 * T = periodMs / limit and a tolerance τ = T · burst. A cost of n units is admitted when
 * max(TAT, now) + T·n − τ ≤ now; the TAT then moves to max(TAT, now) + T·n. A TAT at or before `now`
 * means a full bucket, which is why a missing entry and an expired one are the same thing.
 */

/** Float slack (ms) on comparisons: epoch-ms doubles have ~0.2 µs of precision, far below this. */
export const EPSILON_MS = 0.001

export interface GcraParams {
  /** Emission interval T: milliseconds one unit occupies. */
  intervalMs: number
  /** Tolerance τ = T · burst: how far ahead of `now` the TAT may run. */
  toleranceMs: number
}

export interface GcraResult {
  allowed: boolean
  /** The cost can never be admitted: it exceeds the whole burst. */
  tooLarge: boolean
  /** The TAT to store when this decision is committed (unchanged when denied). */
  tat: number
  /** Milliseconds until this cost would be admitted (0 when allowed). */
  retryAfterMs: number
  /** Whole units still available right after this decision. */
  remaining: number
  /** Milliseconds until the bucket is full again (OpenAI's "reset"). */
  resetMs: number
}

export function gcraParams(limit: number, periodMs: number, burst: number): GcraParams {
  const intervalMs = periodMs / limit
  return { intervalMs, toleranceMs: intervalMs * burst }
}

/** The TAT a stored value stands for at `now`: a missing or past TAT is `now` (a full bucket). */
export function effectiveTat(stored: number | undefined, now: number): number {
  return stored === undefined || stored < now ? now : stored
}

function remainingUnits(p: GcraParams, tat: number, now: number): number {
  return Math.max(0, Math.floor((p.toleranceMs - (tat - now)) / p.intervalMs + 1e-9))
}

/** Decides whether `cost` units fit at `now`, without changing anything. */
export function gcraCheck(stored: number | undefined, now: number, p: GcraParams, cost: number): GcraResult {
  const tat = effectiveTat(stored, now)
  const next = tat + p.intervalMs * cost
  const allowAt = next - p.toleranceMs
  if (allowAt <= now + EPSILON_MS) {
    return { allowed: true, tooLarge: false, tat: next, retryAfterMs: 0, remaining: remainingUnits(p, next, now), resetMs: next - now }
  }
  const tooLarge = p.intervalMs * cost > p.toleranceMs + EPSILON_MS
  return {
    allowed: false,
    tooLarge,
    tat,
    retryAfterMs: tooLarge ? Infinity : allowAt - now,
    remaining: remainingUnits(p, tat, now),
    resetMs: tat - now,
  }
}

/**
 * Moves a TAT by `deltaUnits` (negative: refund, positive: charge) after the fact. A refund never takes the
 * TAT below `now` (the bucket cannot be fuller than full); a charge may push it past `now + τ`, which makes
 * later requests wait off the debt. Returns undefined when the result is a full bucket (delete the entry).
 */
export function gcraAdjust(stored: number | undefined, now: number, intervalMs: number, deltaUnits: number): number | undefined {
  const next = effectiveTat(stored, now) + intervalMs * deltaUnits
  return next <= now ? undefined : next
}

/**
 * The view of a result as if it had not been committed: an admitted rule inside a denied decision consumed
 * nothing, so its headers must show the bucket as it was.
 */
export function uncommitted(result: GcraResult, now: number, p: GcraParams, cost: number): GcraResult {
  if (!result.allowed) return result
  const tat = Math.max(now, result.tat - p.intervalMs * cost)
  return { ...result, tat, remaining: remainingUnits(p, tat, now), resetMs: tat - now }
}
