/**
 * The request-path side of the governor: matches a request to its limits, asks the store for one
 * all-or-nothing decision, answers 429 (or sets the rate-limit headers), and settles tokens and concurrency
 * once the request has ended.
 */
import { randomUUID } from 'node:crypto'
import type { ConsolaInstance } from 'consola'
import { GatewayError } from '../../core/index.ts'
import { counter } from '../../core/index.ts'
import type { Clock, RequestContext, RequestRecord, Settle } from '../../core/index.ts'
import { EPSILON_MS, uncommitted, type GcraResult } from './gcra.ts'
import { estimateRequestTokens } from './estimate.ts'
import { rateLimitHeaders, writeRateLimitHeaders } from './headers.ts'
import {
  bucketKey,
  compileSpec,
  describeScope,
  EMPTY_LIMITS,
  mergeLimits,
  principalSpec,
  type CompiledLimits,
  type ConcurrencyLimit,
  type LimitSpec,
  type RateLimit,
} from './limits.ts'
import { MemoryStore } from './memory-store.ts'
import type { ResolvedGovernorOptions } from './options.ts'
import { RedisStore } from './redis-store.ts'
import type { Decision, DecisionRequest, GovernorStore } from './store.ts'

/** What `limit` reserved for one admitted request (also left in `ctx.state.governor`), released by its settle function. */
export interface GovernorState {
  owner: Governor
  lease: string
  /** Tokens reserved on each token bucket. */
  reservedTokens: number
  tokenBuckets: Array<{ key: string; intervalMs: number }>
  concurrencyKeys: string[]
  settled: boolean
}

const STATE = 'governor'
/** A concurrency slot frees when some request ends, which no one can predict: clients are told to retry in 1 s. */
const CONCURRENCY_RETRY_MS = 1000
/** Told to clients refused because the store is unreachable (fail closed). */
const STORE_DOWN_RETRY_SECONDS = 1

const decisionsTotal = counter('sluice_governor_decisions_total', 'Governor admission decisions, by outcome', ['outcome'])
// Bound children: `inc()` on them skips hashing a label object on every request.
const decisions = {
  admitted: decisionsTotal.labels('admitted'),
  limited: decisionsTotal.labels('limited'),
  tooLarge: decisionsTotal.labels('too_large'),
  failOpen: decisionsTotal.labels('fail_open'),
  failClosed: decisionsTotal.labels('fail_closed'),
}
const storeErrors = counter('sluice_governor_store_errors_total', 'Governor store calls that failed (Redis unreachable or erroring)', ['store', 'operation'])

const leasePrefix = randomUUID().slice(0, 8)
let leaseSeq = 0

interface Matched {
  rates: RateLimit[]
  concurrency: ConcurrencyLimit[]
}

export class Governor {
  private readonly options: ResolvedGovernorOptions
  private readonly configLimits: CompiledLimits
  private readonly perKeySpec?: LimitSpec
  private readonly perKeyLimits: CompiledLimits
  /** Compiled per-key limits by their numbers (not by object: the keys plugin may update a key in place). */
  private readonly principalCache = new Map<string, CompiledLimits>()
  /** Config rules plus one key's limits, merged once per distinct per-key set. */
  private readonly mergedCache = new WeakMap<CompiledLimits, CompiledLimits>()
  private storeInstance?: GovernorStore
  private readonly clock?: Clock
  private readonly logger?: ConsolaInstance
  /** Admitted requests whose settle function has not run yet. */
  private readonly unsettled = new Set<GovernorState>()
  private closed = false

  /** The options' clock, when given, wins over the gateway's. */
  constructor(options: ResolvedGovernorOptions, env: { clock?: Clock; logger?: ConsolaInstance } = {}) {
    this.options = options
    this.configLimits = mergeLimits(options.rules.map((rule, i) => compileSpec(`r${i}`, rule.scope, rule)))
    this.perKeySpec = options.perKey
    this.perKeyLimits = options.perKey ? compileSpec('pk', 'key', options.perKey) : EMPTY_LIMITS
    this.clock = options.clock ?? env.clock
    this.logger = env.logger
  }

  get store(): GovernorStore {
    return (this.storeInstance ??= this.createStore())
  }

  async connect(): Promise<void> {
    const store = this.store
    if (store instanceof RedisStore) await store.connect()
  }

  /**
   * Teardown (shutdown or hot reload). Requests this instance admitted that are still running give their
   * concurrency slots back now (their later settle becomes a no-op), so a reload never leaves slots held on
   * Redis until their leases run out; their token reservations simply stand. Then the store closes.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const store = this.storeInstance
    this.storeInstance = undefined
    if (!store) return
    const running = [...this.unsettled].filter((state) => state.concurrencyKeys.length)
    this.unsettled.clear()
    try {
      await Promise.all(running.map((state) => store.settle({ adjust: [], release: state.concurrencyKeys, lease: state.lease })))
    } catch (error) {
      this.settleFailed(error)
    }
    await store.close?.()
  }

  /**
   * The `limit` hook. Synchronous with the memory store; a promise with Redis. An admitted request gets a
   * settle function back: it returns reserved-but-unused tokens (or charges the overrun) and frees concurrency
   * slots once the request has ended.
   */
  limit(ctx: RequestContext): void | Settle | Promise<void | Settle> {
    if (this.closed) return // a request that raced a hot reload: the new instance limits the next ones
    const matched = this.match(ctx)
    if (!matched.rates.length && !matched.concurrency.length) return
    const tokens = matched.rates.some((r) => r.unit === 'tokens') ? estimateRequestTokens(ctx, this.options.defaultMaxTokens) : 0
    this.refuseIfNeverFits(ctx, matched.rates, tokens)

    const request: DecisionRequest = {
      rates: matched.rates.map((limit) => ({
        key: bucketKey(limit.id, limit.scope, ctx),
        params: limit.params,
        cost: limit.unit === 'tokens' ? tokens : 1,
      })),
      concurrency: matched.concurrency.map((limit) => ({ key: bucketKey(limit.id, limit.scope, ctx), max: limit.max })),
      lease: `${leasePrefix}:${++leaseSeq}`,
    }

    let decision: Decision | Promise<Decision>
    try {
      decision = this.store.decide(request)
    } catch (error) {
      return this.storeFailed(error, 'decide')
    }
    if (decision instanceof Promise) {
      return decision.then(
        (d) => this.apply(ctx, matched, request, tokens, d),
        (error) => this.storeFailed(error, 'decide'),
      )
    }
    return this.apply(ctx, matched, request, tokens, decision)
  }

  private settle(state: GovernorState, record: RequestRecord): void | Promise<void> {
    if (state.settled) return
    state.settled = true
    if (!this.unsettled.delete(state)) return // already given back by close()
    const used = (record.usage?.inputTokens ?? 0) + (record.usage?.outputTokens ?? 0)
    const delta = used - state.reservedTokens
    const adjust = delta === 0 ? [] : state.tokenBuckets.map((b) => ({ key: b.key, intervalMs: b.intervalMs, deltaUnits: delta }))
    if (!adjust.length && !state.concurrencyKeys.length) return
    const settle = { adjust, release: state.concurrencyKeys, lease: state.lease }
    try {
      const pending = this.store.settle(settle)
      if (pending instanceof Promise) return pending.catch((error) => this.settleFailed(error))
    } catch (error) {
      this.settleFailed(error)
    }
  }

  private match(ctx: RequestContext): Matched {
    const perKey = this.limitsForPrincipal(ctx)
    if (!perKey.rates.length && !perKey.concurrency.length) return this.configLimits
    if (!this.configLimits.rates.length && !this.configLimits.concurrency.length) return perKey
    let merged = this.mergedCache.get(perKey)
    if (!merged) {
      merged = mergeLimits([this.configLimits, perKey])
      this.mergedCache.set(perKey, merged)
    }
    return merged
  }

  /** `perKey` from config, overridden field by field by the key's own limits (set by the keys plugin). */
  private limitsForPrincipal(ctx: RequestContext): CompiledLimits {
    const raw = ctx.principal?.limits
    if (!raw || typeof raw !== 'object') return this.perKeyLimits
    const own = principalSpec(raw)
    if (!own) return this.perKeyLimits
    const signature = `${own.rps}|${own.rpm}|${own.tpm}|${own.burst}|${own.tokenBurst}|${own.maxConcurrent}`
    let compiled = this.principalCache.get(signature)
    if (!compiled) {
      // A handful of distinct limit sets is normal; a flood of them only costs recompiling.
      if (this.principalCache.size >= 10_000) this.principalCache.clear()
      compiled = compileSpec('pk', 'key', { ...this.perKeySpec, ...own })
      this.principalCache.set(signature, compiled)
    }
    return compiled
  }

  /** A token cost larger than a bucket's whole burst can never pass: say so instead of a retry-after that would lie. */
  private refuseIfNeverFits(ctx: RequestContext, rates: RateLimit[], tokens: number): void {
    for (const limit of rates) {
      if (limit.unit !== 'tokens' || limit.params.intervalMs * tokens <= limit.params.toleranceMs + EPSILON_MS) continue
      decisions.tooLarge.inc()
      const capacity = Math.floor(limit.params.toleranceMs / limit.params.intervalMs)
      throw new GatewayError(
        429,
        `request too large: about ${tokens} tokens (prompt estimate + max_tokens) exceed the limit of ${limit.label} ${describeScope(limit.scope, ctx)} (at most ${capacity} at once); lower max_tokens or shorten the prompt`,
        { type: 'rate_limit_error', code: 'request_too_large' },
      )
    }
  }

  private apply(ctx: RequestContext, matched: Matched, request: DecisionRequest, tokens: number, decision: Decision): Settle {
    if (decision.allowed) {
      decisions.admitted.inc()
      const state: GovernorState = {
        owner: this,
        lease: request.lease,
        reservedTokens: tokens,
        tokenBuckets: [],
        concurrencyKeys: request.concurrency.map((c) => c.key),
        settled: false,
      }
      for (let i = 0; i < matched.rates.length; i++) {
        if (matched.rates[i]!.unit === 'tokens') state.tokenBuckets.push({ key: request.rates[i]!.key, intervalMs: matched.rates[i]!.params.intervalMs })
      }
      ctx.state[STATE] = state
      this.unsettled.add(state)
      const target = ctx.responseHeaders
      writeRateLimitHeaders(matched.rates, decision.rates, (name, value) => target.set(name, value))
      return (record) => this.settle(state, record)
    }
    decisions.limited.inc()
    throw this.denial(ctx, matched, request, decision)
  }

  private denial(ctx: RequestContext, matched: Matched, request: DecisionRequest, decision: Decision): GatewayError {
    const now = decision.now
    const views: GcraResult[] = decision.rates.map((r, i) => uncommitted(r, now, request.rates[i]!.params, request.rates[i]!.cost))
    // The binding limit is the one that frees last: all of them must admit before the request can pass.
    let worst = -1
    for (let i = 0; i < views.length; i++) {
      if (!views[i]!.allowed && (worst < 0 || views[i]!.retryAfterMs > views[worst]!.retryAfterMs)) worst = i
    }
    let message: string
    let retryAfterMs: number
    const fullSlot = matched.concurrency.findIndex((c, j) => decision.inflight[j]! >= c.max)
    if (worst >= 0) {
      const limit = matched.rates[worst]!
      message = `rate limit exceeded: ${limit.label} ${describeScope(limit.scope, ctx)}`
      retryAfterMs = views[worst]!.retryAfterMs
      if (fullSlot >= 0) retryAfterMs = Math.max(retryAfterMs, CONCURRENCY_RETRY_MS)
    } else {
      const limit = matched.concurrency[fullSlot]!
      message = `concurrency limit exceeded: ${limit.max} requests in flight ${describeScope(limit.scope, ctx)}`
      retryAfterMs = CONCURRENCY_RETRY_MS
    }
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000))
    const headers = rateLimitHeaders(matched.rates, views)
    headers['retry-after'] = String(retryAfter)
    // The openai SDKs honour this before `retry-after`, so they come back at the exact millisecond.
    headers['retry-after-ms'] = String(Math.ceil(retryAfterMs))
    return new GatewayError(429, message, { type: 'rate_limit_error', code: 'rate_limit_exceeded', retryAfter, headers })
  }

  private storeFailed(error: unknown, operation: string): undefined {
    if (GatewayError.is(error)) throw error
    storeErrors.inc({ store: this.storeInstance?.kind ?? 'unknown', operation })
    if (this.options.failMode === 'open') {
      decisions.failOpen.inc()
      return undefined
    }
    decisions.failClosed.inc()
    throw new GatewayError(503, 'rate limiter unavailable; retry shortly', {
      type: 'api_error',
      code: 'rate_limiter_unavailable',
      retryAfter: STORE_DOWN_RETRY_SECONDS,
    })
  }

  private settleFailed(error: unknown): void {
    // Logged once per outage by the store's onDown; a lost settle only means a stale reservation that
    // expires with its bucket (and a concurrency lease that times out on Redis).
    storeErrors.inc({ store: this.storeInstance?.kind ?? 'unknown', operation: 'settle' })
    void error
  }

  private createStore(): GovernorStore {
    const store = this.options.store
    if (store === 'memory') {
      return new MemoryStore({ now: () => (this.clock ?? Date).now(), maxKeys: this.options.maxKeys })
    }
    const failing = this.options.failMode === 'open' ? 'failing open: requests pass unlimited' : 'failing closed: requests get 503'
    return new RedisStore({
      url: store.redis,
      prefix: store.prefix,
      leaseMs: store.leaseMs,
      connectTimeoutMs: store.connectTimeoutMs,
      commandTimeoutMs: store.commandTimeoutMs,
      now: this.options.clock ? () => this.options.clock!.now() : undefined,
      onDown: (reason) => this.log('warn', `governor: Redis store unreachable (${reason}); ${failing} until it is back`),
      onUp: () => this.log('info', 'governor: Redis store reachable again; rate limiting resumed'),
    })
  }

  private log(level: 'warn' | 'info', message: string): void {
    if (this.logger) this.logger[level](message)
    else if (level === 'warn') console.warn(message)
  }
}
