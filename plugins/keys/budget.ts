/**
 * Budget enforcement: reserve a request's worst-case cost before the call, settle it with the real cost after.
 *
 * Per key and period this process keeps one ledger entry:
 *   spent    = baseSpent (read from the `spend` service) + costs this process settled since that read began
 *   reserved = worst-case costs of this key's requests now in flight on this process
 * A request is admitted when spent + reserved + its own worst case <= maxUSD. The check and the reservation run
 * in one synchronous block (no await between them), so concurrent requests cannot both take the last dollar:
 * overshoot is bounded by the gap between reservations and real costs of requests in flight, plus what other
 * replicas spend between two reads of the spend service (`spendRefreshMs`).
 *
 * A cost settled while a read is in flight may be counted twice until the next read: that errs towards refusing,
 * never towards overspending.
 */
import { GatewayError } from '../../core/index.ts'
import type { Services } from '../../core/index.ts'
import type { BudgetPeriod, KeyBudget } from './schema.ts'

const DAY_MS = 86_400_000

/** Start (epoch ms, UTC) of the budget period containing `now`. Weeks start on Monday. */
export function periodStart(period: BudgetPeriod, now: number): number {
  if (period === 'total') return 0
  const date = new Date(now)
  const dayStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())
  if (period === 'day') return dayStart
  if (period === 'week') return dayStart - ((date.getUTCDay() + 6) % 7) * DAY_MS
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)
}

interface LedgerEntry {
  period: BudgetPeriod
  periodStart: number
  baseSpent: number
  /** `settled` as it was when the read behind `baseSpent` began. */
  settledAtRead: number
  /** Monotonic sum of real costs this process settled for the key in this period. */
  settled: number
  reserved: number
  /** Reservations in flight (so `reserved` returns to exactly 0). */
  holding: number
  readAt: number
  refreshing: boolean
}

/** A reservation held by one request; settle it exactly once (settling again is a no-op). */
export interface Reservation {
  readonly keyId: string
  readonly amountUSD: number
  readonly entry: LedgerEntry
  settled: boolean
}

export type SpendService = Services['spend']

export interface BudgetLedgerOptions {
  now: () => number
  refreshMs: number
  onRefreshError?: (error: unknown) => void
}

export class BudgetLedger {
  private readonly entries = new Map<string, LedgerEntry>()
  private readonly loading = new Map<string, Promise<LedgerEntry>>()

  constructor(private readonly options: BudgetLedgerOptions) {}

  /** Admits and reserves `estimateUSD`, or throws 403 insufficient_quota. */
  async reserve(keyId: string, budget: KeyBudget, estimateUSD: number, spend: SpendService): Promise<Reservation> {
    const now = this.options.now()
    const start = periodStart(budget.period, now)
    let entry = this.entries.get(keyId)
    if (!entry || entry.periodStart !== start || entry.period !== budget.period) {
      entry = await this.load(keyId, budget.period, start, spend)
    } else if (now - entry.readAt >= this.options.refreshMs && !entry.refreshing) {
      this.refresh(keyId, entry, spend)
    }
    // From here to the return: synchronous, so check-and-reserve is atomic in this process.
    const spent = spentOf(entry)
    if (spent + entry.reserved + estimateUSD > budget.maxUSD) {
      throw new GatewayError(403, quotaMessage(budget, spent, estimateUSD), { type: 'insufficient_quota', code: 'insufficient_quota' })
    }
    entry.reserved += estimateUSD
    entry.holding++
    return { keyId, amountUSD: estimateUSD, entry, settled: false }
  }

  /** Releases the reservation and counts the real cost (0 when the request never reached a provider). */
  settle(reservation: Reservation, actualUSD: number): void {
    if (reservation.settled) return
    reservation.settled = true
    const { entry } = reservation
    // Sums of floats drift: with nothing in flight, nothing is reserved.
    entry.reserved = --entry.holding === 0 ? 0 : Math.max(0, entry.reserved - reservation.amountUSD)
    if (Number.isFinite(actualUSD) && actualUSD > 0) entry.settled += actualUSD
  }

  /** In-flight reservations of a key on this process (current period entry). */
  reservedUSD(keyId: string): number {
    return this.entries.get(keyId)?.reserved ?? 0
  }

  forget(keyId: string): void {
    this.entries.delete(keyId)
  }

  private load(keyId: string, period: BudgetPeriod, start: number, spend: SpendService): Promise<LedgerEntry> {
    const slot = `${keyId}\n${period}\n${start}`
    const pending = this.loading.get(slot)
    if (pending) return pending
    const promise = spend
      .spentUSD(keyId, start)
      .then((spent) => {
        const entry: LedgerEntry = {
          period,
          periodStart: start,
          baseSpent: finiteOrZero(spent),
          settledAtRead: 0,
          settled: 0,
          reserved: 0,
          holding: 0,
          readAt: this.options.now(),
          refreshing: false,
        }
        this.entries.set(keyId, entry)
        return entry
      })
      .catch((error: unknown) => {
        throw new GatewayError(503, 'the budget for this key cannot be checked right now; try again shortly', {
          type: 'api_error',
          code: 'budget_unavailable',
          cause: error,
        })
      })
      .finally(() => this.loading.delete(slot))
    this.loading.set(slot, promise)
    return promise
  }

  /** Re-reads the spend in the background; requests meanwhile use the current figures. */
  private refresh(keyId: string, entry: LedgerEntry, spend: SpendService): void {
    entry.refreshing = true
    const settledAtStart = entry.settled
    spend
      .spentUSD(keyId, entry.periodStart)
      .then((spent) => {
        entry.baseSpent = finiteOrZero(spent)
        entry.settledAtRead = settledAtStart
        entry.readAt = this.options.now()
      })
      .catch((error: unknown) => this.options.onRefreshError?.(error))
      .finally(() => {
        entry.refreshing = false
      })
  }
}

function spentOf(entry: LedgerEntry): number {
  return entry.baseSpent + (entry.settled - entry.settledAtRead)
}

function finiteOrZero(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0
}

function usd(value: number): string {
  return `$${value < 0.01 && value > 0 ? value.toPrecision(2) : value.toFixed(2)}`
}

function quotaMessage(budget: KeyBudget, spent: number, estimate: number): string {
  const per = budget.period === 'total' ? 'in total' : `this ${budget.period}`
  return `This key's budget is used up: ${usd(spent)} of ${usd(budget.maxUSD)} spent ${per}, and this request could cost up to ${usd(estimate)}.`
}
