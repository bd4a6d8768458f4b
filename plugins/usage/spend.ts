/**
 * The `spend` service: what a principal has spent since a time, read from the store plus what this process
 * recorded that the store does not hold yet (queued, being written, or spilled), so a budget sees a cost the
 * moment the request is recorded, not when its batch lands.
 *
 * A record committed while the store read is in flight may be counted twice until the next read: that errs
 * towards refusing, never towards overspending. When the store cannot be read, the last value read is used,
 * plus what this process recorded since.
 */
import type { RequestRecord, Services } from '../../core/index.ts'
import type { UsageStore } from './store.ts'

const MAX_REMEMBERED = 10_000

interface LastRead {
  value: number
  recordedAtRead: number
}

export class SpendTracker {
  /** Cost recorded by this process and not yet in the store, per principal. */
  readonly #unstored = new Map<string, number>()
  /** Monotonic cost recorded by this process, per principal. */
  readonly #recorded = new Map<string, number>()
  readonly #lastRead = new Map<string, LastRead>()

  constructor(private readonly store: UsageStore) {}

  /** A record was accepted by the recorder. */
  noteRecorded(record: RequestRecord): void {
    const cost = record.costUSD
    if (!record.principalId || !cost || cost <= 0) return
    add(this.#recorded, record.principalId, cost)
    add(this.#unstored, record.principalId, cost)
  }

  /** These records (accepted by this process) are now in the store. */
  noteStored(records: RequestRecord[]): void {
    for (const record of records) {
      const cost = record.costUSD
      if (!record.principalId || !cost || cost <= 0) continue
      const left = (this.#unstored.get(record.principalId) ?? 0) - cost
      if (left > 1e-12) this.#unstored.set(record.principalId, left)
      else this.#unstored.delete(record.principalId)
    }
  }

  async spentUSD(principalId: string, sinceMs: number): Promise<number> {
    const key = `${principalId}\u0000${sinceMs}`
    const recordedAtRead = this.#recorded.get(principalId) ?? 0
    const unstoredAtRead = this.#unstored.get(principalId) ?? 0
    try {
      const stored = await this.store.spentUSD(principalId, sinceMs)
      const value = stored + unstoredAtRead
      if (this.#lastRead.size >= MAX_REMEMBERED && !this.#lastRead.has(key)) this.#lastRead.clear()
      this.#lastRead.set(key, { value, recordedAtRead })
      return value + ((this.#recorded.get(principalId) ?? 0) - recordedAtRead)
    } catch (error) {
      const last = this.#lastRead.get(key)
      if (!last) throw error
      return last.value + ((this.#recorded.get(principalId) ?? 0) - last.recordedAtRead)
    }
  }

  service(): Services['spend'] {
    return { spentUSD: (principalId, sinceMs) => this.spentUSD(principalId, sinceMs) }
  }
}

function add(map: Map<string, number>, key: string, amount: number) {
  map.set(key, (map.get(key) ?? 0) + amount)
}
