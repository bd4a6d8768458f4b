/**
 * The cache's `call` hook, outside the router's fallback (so a hit skips fallback, retry, breaker and provider):
 *
 *   bypass   → passed on untouched (`x-sluice-cache: bypass`)
 *   lookup   → a fresh entry is a hit, answered in the neutral view (`output`: the core encodes it in the
 *              client's format and streams it to a streaming client), with `age`; else the request joins an
 *              identical one in flight, or leads the call itself and stores its answer (`miss`)
 *   refresh  → `cache-control: no-cache`: always fetched, and stored
 *
 * A hit names the target that answered originally (`x-sluice-provider` / `-model`, and the record, so it is
 * priced as that target's answer; the settle function below turns that price into `savedUSD`).
 */
import { readOutput } from '../../core/index.ts'
import type { Attempt, CallNext, Clock, ProviderResponse, RequestContext, RequestRecord, ResponseView, Target, TranslateInfo } from '../../core/index.ts'
import { collectDeltaStream, collectRawStream, storable } from './collect.ts'
import { waitFor, type Flight, type FlightOutcome, type Flights } from './flights.ts'
import { decide, type Decision } from './policy.ts'
import type { CacheSettings } from './options.ts'
import type { CacheStore } from './store.ts'
import type { CacheResult, CacheStats } from './stats.ts'

export const CACHE_HEADER = 'x-sluice-cache'
const STATE = 'cache'

/** What the cache asks the breaker (its `breakers` service), as the router does: is a target's circuit open? */
export interface CircuitGate {
  blockedFor(target: Target): number
}

export interface CacheRuntime {
  settings: CacheSettings
  store: CacheStore
  flights: Flights
  stats: CacheStats
  clock: Clock
  /** The breaker's service, when one is configured. */
  gate(): CircuitGate | undefined
}

type Stored = Extract<Decision, { mode: 'lookup' | 'refresh' }>

const PASS: FlightOutcome = { kind: 'pass' }
const RETRY: FlightOutcome = { kind: 'retry' }

/** What the cache did with a request, once decided (read by the settle function). */
export function resultOf(ctx: RequestContext): CacheResult | undefined {
  return ctx.state[STATE]?.result
}

export function createCacheCall(rt: CacheRuntime) {
  const mark = (ctx: RequestContext, result: CacheResult) => {
    ctx.state[STATE] = { result }
    ctx.responseHeaders.set(CACHE_HEADER, result)
    rt.stats.count(result)
  }

  const serve = (ctx: RequestContext, output: ResponseView, target: Target, storedAt: number): ProviderResponse => {
    mark(ctx, 'hit')
    ctx.target = { provider: target.provider, model: target.model }
    ctx.responseHeaders.set('age', String(Math.max(0, Math.floor((rt.clock.now() - storedAt) / 1000))))
    return { status: 200, headers: new Headers(), format: ctx.api, output }
  }

  /** Calls the upstream and keeps its answer when it is whole; ends `flight` (if this request leads one) with how it went. */
  const lead = async (ctx: RequestContext, attempt: Attempt, next: CallNext, decision: Stored, flight: Flight | undefined): Promise<ProviderResponse> => {
    mark(ctx, 'miss')
    ctx.state[STATE].flight = flight
    let response: ProviderResponse
    try {
      response = await next(attempt)
    } catch (error) {
      flight?.end(ctx.signal.aborted ? RETRY : { kind: 'error', error })
      throw error
    }
    // The target that answered: the first one, or a fallback (stored under its own key).
    const target = ctx.target ?? attempt.target
    const key = target === decision.target ? decision.key : decision.keyFor(target)
    const keep = async (answer: ResponseView | undefined): Promise<void> => {
      if (!answer) return flight?.end(ctx.signal.aborted ? RETRY : PASS)
      const storedAt = rt.clock.now()
      if (key && await rt.store.set(key, answer, target, decision.ttl)) {
        rt.stats.wrote()
        rt.stats.size(rt.store.size())
      }
      flight?.end({ kind: 'answer', answer: { output: answer, target, storedAt } })
    }
    if (response.status !== 200) {
      await keep(undefined)
      return response
    }
    const info: TranslateInfo = { model: ctx.model, id: ctx.id, request: ctx.body }
    const max = rt.settings.maxEntryBytes
    if (response.stream) {
      response.stream = collectRawStream(response.stream, response.format, info, max, ctx.signal, keep)
    } else if (response.deltas) {
      response.deltas = collectDeltaStream(response.deltas, max, ctx.signal, keep)
    } else {
      let answer: ResponseView | undefined
      try {
        answer = storable(readOutput(response, info))
      } catch {
        answer = undefined // a body the neutral view cannot read: served, not kept
      }
      await keep(answer)
    }
    return response
  }

  const lookup = async (ctx: RequestContext, attempt: Attempt, next: CallNext, decision: Stored): Promise<ProviderResponse> => {
    for (;;) {
      const entry = await rt.store.get(decision.key)
      if (entry && (decision.maxAgeMs === undefined || rt.clock.now() - entry.storedAt <= decision.maxAgeMs)) {
        return serve(ctx, entry.output, entry.target, entry.storedAt)
      }
      const flight = rt.flights.get(decision.key)
      if (!flight) return lead(ctx, attempt, next, decision, rt.flights.start(decision.key))
      const outcome = await waitFor(flight, ctx.signal)
      switch (outcome.kind) {
        case 'answer':
          return serve(ctx, structuredClone(outcome.answer.output), outcome.answer.target, outcome.answer.storedAt)
        case 'error':
          mark(ctx, 'miss')
          throw outcome.error
        case 'pass':
          return lead(ctx, attempt, next, decision, undefined)
        case 'retry':
          continue // the leader's client went away: look again, and lead if nobody else does
      }
    }
  }

  /**
   * The target whose answer is looked up: the one the router will try first — the attempt's, or the next in the
   * plan whose circuit is not open (so while a primary is down, its fallback's answers are hits).
   */
  const firstTarget = (ctx: RequestContext, attempt: Attempt): Target => {
    const gate = rt.gate()
    if (!gate || gate.blockedFor(attempt.target) <= 0) return attempt.target
    const plan = ctx.plan
    for (let i = plan.indexOf(attempt.target) + 1; i > 0 && i < plan.length; i++) if (gate.blockedFor(plan[i]!) <= 0) return plan[i]!
    return attempt.target
  }

  return async function cacheCall(ctx: RequestContext, attempt: Attempt, next: CallNext): Promise<ProviderResponse> {
    const decision = decide(ctx, firstTarget(ctx, attempt), rt.settings)
    if (decision.mode === 'bypass') {
      mark(ctx, 'bypass')
      return next(attempt)
    }
    if (decision.mode === 'refresh') {
      // Read nothing; lead a flight when none is in the air (an identical request arriving now gets this fresh answer).
      return lead(ctx, attempt, next, decision, rt.flights.get(decision.key) ? undefined : rt.flights.start(decision.key))
    }
    return lookup(ctx, attempt, next, decision)
  }
}

/**
 * The settle function the cache's `limit` hook returns, run after the core priced the record and before any other
 * settle function or `record` hook: a hit says `cached`, costs nothing, and carries what the upstream would have
 * cost as `savedUSD`.
 */
export function settleCached(record: RequestRecord, ctx: RequestContext, stats: CacheStats): void {
  const state = ctx.state[STATE] as { result: CacheResult; flight?: Flight } | undefined
  // A stream nobody read to its end nor cancelled (the response failed before it was read) never ended its
  // flight: end it now, so its followers lead instead of waiting for ever.
  state?.flight?.end(RETRY)
  if (state?.result !== 'hit') return
  record.cached = true
  if (typeof record.costUSD !== 'number') return
  record.savedUSD = record.costUSD
  record.costUSD = 0
  stats.save(record.savedUSD)
}
