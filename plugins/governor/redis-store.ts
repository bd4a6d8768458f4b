/**
 * The shared store: buckets live in Redis so every replica draws from the same ones. One Lua script per
 * decision (EVALSHA through ioredis `defineCommand`, which re-sends the script on NOSCRIPT), `now` from
 * Redis TIME so replicas with skewed clocks still agree, keys with PX expiry so idle buckets vanish.
 *
 * The client fails fast instead of queuing while Redis is down (no offline queue, short timeouts, no
 * per-request retries) and reconnects on its own; `onDown`/`onUp` fire on transitions only.
 */
import { Redis } from 'ioredis'
import { gcraCheck } from './gcra.ts'
import { DECIDE_LUA, SETTLE_LUA } from './redis-scripts.ts'
import type { Decision, DecisionRequest, GovernorStore, SettleRequest } from './store.ts'

export interface RedisStoreOptions {
  url: string
  /** Prepended to every key; default `sluice:governor:`. */
  prefix?: string
  /** Test seam: take `now` from here instead of Redis TIME. */
  now?: () => number
  /** How long a concurrency slot is held if its request never settles (a crashed replica); default 10 minutes. */
  leaseMs?: number
  connectTimeoutMs?: number
  commandTimeoutMs?: number
  onDown?: (reason: string) => void
  onUp?: () => void
}

interface GovernorCommands {
  sluiceGovernorDecide(numKeys: number, ...args: Array<string | number>): Promise<[number, string, ...Array<string | number>]>
  sluiceGovernorSettle(numKeys: number, ...args: Array<string | number>): Promise<number>
}

export class RedisStore implements GovernorStore {
  readonly kind = 'redis'
  readonly client: Redis & GovernorCommands
  private readonly prefix: string
  private readonly nowOverride?: () => number
  private readonly leaseMs: number
  private healthy = true
  private connecting?: Promise<void>
  private readonly onDown?: (reason: string) => void
  private readonly onUp?: () => void

  constructor(options: RedisStoreOptions) {
    this.prefix = options.prefix ?? 'sluice:governor:'
    this.nowOverride = options.now
    this.leaseMs = options.leaseMs ?? 10 * 60_000
    this.onDown = options.onDown
    this.onUp = options.onUp
    this.client = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      commandTimeout: options.commandTimeoutMs ?? 500,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    }) as Redis & GovernorCommands
    this.client.defineCommand('sluiceGovernorDecide', { lua: DECIDE_LUA })
    this.client.defineCommand('sluiceGovernorSettle', { lua: SETTLE_LUA })
    // Without a listener ioredis prints every failed reconnect; the transition is what matters.
    this.client.on('error', (error: Error) => this.down(error))
    this.client.on('ready', () => this.up())
  }

  /** Connects once; later calls return at once. A failure here is reported, and ioredis keeps retrying. */
  connect(): Promise<void> {
    this.connecting ??= this.client.connect().catch((error: Error) => this.down(error))
    return this.connecting
  }

  async decide(request: DecisionRequest): Promise<Decision> {
    if (!this.connecting) await this.connect()
    const n = request.rates.length
    const m = request.concurrency.length
    const args: Array<string | number> = []
    for (const r of request.rates) args.push(this.prefix + r.key)
    for (const c of request.concurrency) args.push(this.prefix + c.key)
    args.push(this.nowArg(), n, m, request.lease, this.leaseMs)
    for (const r of request.rates) args.push(r.params.intervalMs, r.params.toleranceMs, r.cost)
    for (const c of request.concurrency) args.push(c.max)
    const reply = await this.run(() => this.client.sluiceGovernorDecide(n + m, ...args))
    const now = Number(reply[1])
    const rates = request.rates.map((r, i) => {
      const stored = reply[2 + i]
      return gcraCheck(stored === '' ? undefined : Number(stored), now, r.params, r.cost)
    })
    const inflight = request.concurrency.map((_, j) => Number(reply[2 + n + j]))
    return { allowed: reply[0] === 1, now, rates, inflight }
  }

  async settle(request: SettleRequest): Promise<void> {
    if (!request.adjust.length && !request.release.length) return
    if (!this.connecting) await this.connect()
    const args: Array<string | number> = []
    for (const a of request.adjust) args.push(this.prefix + a.key)
    for (const key of request.release) args.push(this.prefix + key)
    args.push(this.nowArg(), request.adjust.length, request.lease)
    for (const a of request.adjust) args.push(a.intervalMs, a.deltaUnits)
    await this.run(() => this.client.sluiceGovernorSettle(request.adjust.length + request.release.length, ...args))
  }

  async close(): Promise<void> {
    this.client.disconnect()
  }

  private nowArg(): string {
    return this.nowOverride ? String(this.nowOverride()) : ''
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      const result = await command()
      this.up()
      return result
    } catch (error) {
      this.down(error as Error)
      throw error
    }
  }

  private down(error: Error): void {
    if (!this.healthy) return
    this.healthy = false
    this.onDown?.(error?.message || String(error))
  }

  private up(): void {
    if (this.healthy) return
    this.healthy = true
    this.onUp?.()
  }
}
