/** What a governor store does: one atomic all-or-nothing decision, and the settling after a request ends. */
import type { GcraParams, GcraResult } from './gcra.ts'

export interface RateItem {
  /** Bucket key, without the store's prefix. */
  key: string
  params: GcraParams
  cost: number
}

export interface ConcurrencyItem {
  key: string
  max: number
}

export interface DecisionRequest {
  rates: RateItem[]
  concurrency: ConcurrencyItem[]
  /** Unique per request (never the client's x-request-id): the lease a concurrency slot is held under. */
  lease: string
}

export interface Decision {
  /** Every rate bucket and concurrency slot admitted it, and all of them were taken; otherwise none was. */
  allowed: boolean
  /** The time the decision was made at (the store's clock: Redis TIME on Redis). */
  now: number
  /** Per rate item, in order. */
  rates: GcraResult[]
  /** In-flight count per concurrency item before this decision. */
  inflight: number[]
}

export interface SettleRequest {
  /** Token buckets to move by `deltaUnits` (negative refunds, positive charges). */
  adjust: Array<{ key: string; intervalMs: number; deltaUnits: number }>
  /** Concurrency slots to release. */
  release: string[]
  lease: string
}

export interface GovernorStore {
  readonly kind: 'memory' | 'redis'
  decide(request: DecisionRequest): Decision | Promise<Decision>
  settle(request: SettleRequest): void | Promise<void>
  close?(): Promise<void> | void
}
