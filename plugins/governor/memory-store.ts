/**
 * The in-process store: synchronous Maps, so a decision is atomic without locks and O(1) per rule.
 *
 * Memory stays bounded without a timer per key: a TAT at or before `now` is the same as no entry, so every
 * decision also advances a sweeping cursor a few entries through the map and drops the expired ones it
 * meets. A hard cap (`maxKeys`) evicts the least recently written bucket should live buckets ever exceed it
 * (writes re-insert their key, so the map's insertion order is its recency order).
 */
import { gcraAdjust, gcraCheck, type GcraResult } from './gcra.ts'
import type { Decision, DecisionRequest, GovernorStore, SettleRequest } from './store.ts'

export interface MemoryStoreOptions {
  now: () => number
  /** Most rate buckets kept at once; default 1,000,000. */
  maxKeys?: number
  /** Entries the sweeping cursor looks at per decision; default 4 (amortised O(1)). */
  sweepStep?: number
}

export class MemoryStore implements GovernorStore {
  readonly kind = 'memory'
  private readonly tats = new Map<string, number>()
  private readonly inflightCounts = new Map<string, number>()
  private readonly now: () => number
  private readonly maxKeys: number
  private readonly sweepStep: number
  private cursor: Iterator<[string, number]>

  constructor(options: MemoryStoreOptions) {
    this.now = options.now
    this.maxKeys = options.maxKeys ?? 1_000_000
    this.sweepStep = options.sweepStep ?? 4
    this.cursor = this.tats.entries()
  }

  /** Rate buckets held (for tests and metrics). */
  get size(): number {
    return this.tats.size
  }

  decide(request: DecisionRequest): Decision {
    const now = this.now()
    const rates: GcraResult[] = new Array(request.rates.length)
    let allowed = true
    for (let i = 0; i < request.rates.length; i++) {
      const item = request.rates[i]!
      const result = gcraCheck(this.tats.get(item.key), now, item.params, item.cost)
      rates[i] = result
      if (!result.allowed) allowed = false
    }
    const inflight: number[] = new Array(request.concurrency.length)
    for (let i = 0; i < request.concurrency.length; i++) {
      const item = request.concurrency[i]!
      const count = this.inflightCounts.get(item.key) ?? 0
      inflight[i] = count
      if (count >= item.max) allowed = false
    }
    if (allowed) {
      for (let i = 0; i < request.rates.length; i++) this.write(request.rates[i]!.key, rates[i]!.tat)
      for (let i = 0; i < request.concurrency.length; i++) {
        const key = request.concurrency[i]!.key
        this.inflightCounts.set(key, inflight[i]! + 1)
      }
    }
    this.sweep(now, this.sweepStep + request.rates.length)
    return { allowed, now, rates, inflight }
  }

  settle(request: SettleRequest): void {
    const now = this.now()
    for (const item of request.adjust) {
      const next = gcraAdjust(this.tats.get(item.key), now, item.intervalMs, item.deltaUnits)
      if (next === undefined) this.tats.delete(item.key)
      else this.write(item.key, next)
    }
    for (const key of request.release) {
      const count = this.inflightCounts.get(key) ?? 0
      if (count <= 1) this.inflightCounts.delete(key)
      else this.inflightCounts.set(key, count - 1)
    }
  }

  private write(key: string, tat: number): void {
    // Delete first so the key moves to the end: insertion order is then least-recently-written first.
    if (!this.tats.delete(key) && this.tats.size >= this.maxKeys) {
      const oldest = this.tats.keys().next()
      if (!oldest.done) this.tats.delete(oldest.value)
    }
    this.tats.set(key, tat)
  }

  private sweep(now: number, steps: number): void {
    for (let i = 0; i < steps; i++) {
      const next = this.cursor.next()
      if (next.done) {
        this.cursor = this.tats.entries()
        return
      }
      if (next.value[1] <= now) this.tats.delete(next.value[0])
    }
  }
}
