/**
 * What the dashboard knows by itself: finished records of this process, folded into per-minute and per-hour
 * buckets (counts, tokens, cost, latency and TTFB histograms) and per-target recent buckets. Kept in memory,
 * bounded: 61 minutes, 169 hours, five minutes per target for at most `maxTargets` targets.
 */
import type { RequestRecord } from '../../core/index.ts'
import { addValue, mergeInto, newHistogram, quantile, type Histogram } from './histogram.ts'

export interface Bucket {
  start: number
  requests: number
  errors: number
  inputTokens: number
  outputTokens: number
  costUSD: number
  latency: Histogram
  ttfb: Histogram
}

export type Range = 'hour' | 'day' | 'week'
export const RANGES: Record<Range, { widthMs: number; count: number }> = {
  hour: { widthMs: 60_000, count: 60 },
  day: { widthMs: 3_600_000, count: 24 },
  week: { widthMs: 3_600_000, count: 168 },
}

const TARGET_WINDOW_MINUTES = 5

function emptyBucket(start: number): Bucket {
  return { start, requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, costUSD: 0, latency: newHistogram(), ttfb: newHistogram() }
}

const finite = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0)

function addRecord(bucket: Bucket, record: RequestRecord): void {
  bucket.requests++
  if (record.status >= 400) bucket.errors++
  bucket.inputTokens += finite(record.usage?.inputTokens)
  bucket.outputTokens += finite(record.usage?.outputTokens)
  bucket.costUSD += finite(record.costUSD)
  addValue(bucket.latency, finite(record.latencyMs))
  if (typeof record.ttfbMs === 'number') addValue(bucket.ttfb, finite(record.ttfbMs))
}

/** Buckets of one width, keyed by start time; only the newest `keep` are retained. */
export class BucketRing {
  readonly #buckets = new Map<number, Bucket>()
  constructor(readonly widthMs: number, readonly keep: number) {}

  add(record: RequestRecord, time: number): void {
    const start = Math.floor(time / this.widthMs) * this.widthMs
    let bucket = this.#buckets.get(start)
    if (!bucket) {
      bucket = emptyBucket(start)
      this.#buckets.set(start, bucket)
      this.prune(start)
    }
    addRecord(bucket, record)
  }

  prune(newest: number): void {
    const oldest = newest - (this.keep - 1) * this.widthMs
    for (const start of this.#buckets.keys()) if (start < oldest) this.#buckets.delete(start)
  }

  /** `count` consecutive buckets ending with the one holding `now`, empty ones included. */
  window(now: number, count: number): Bucket[] {
    const last = Math.floor(now / this.widthMs) * this.widthMs
    const out: Bucket[] = []
    for (let i = count - 1; i >= 0; i--) {
      const start = last - i * this.widthMs
      out.push(this.#buckets.get(start) ?? emptyBucket(start))
    }
    return out
  }
}

export interface Summary {
  requests: number
  errors: number
  inputTokens: number
  outputTokens: number
  costUSD: number
  latency: { p50?: number; p95?: number }
  ttfb: { p50?: number; p95?: number }
}

export function summarize(buckets: Bucket[]): Summary {
  const total = emptyBucket(0)
  for (const bucket of buckets) {
    total.requests += bucket.requests
    total.errors += bucket.errors
    total.inputTokens += bucket.inputTokens
    total.outputTokens += bucket.outputTokens
    total.costUSD += bucket.costUSD
    mergeInto(total.latency, bucket.latency)
    mergeInto(total.ttfb, bucket.ttfb)
  }
  return {
    requests: total.requests, errors: total.errors, inputTokens: total.inputTokens, outputTokens: total.outputTokens,
    costUSD: total.costUSD,
    latency: { p50: quantile(total.latency, 0.5), p95: quantile(total.latency, 0.95) },
    ttfb: { p50: quantile(total.ttfb, 0.5), p95: quantile(total.ttfb, 0.95) },
  }
}

export function targetOf(record: RequestRecord): string | undefined {
  return record.provider && record.upstreamModel ? `${record.provider}/${record.upstreamModel}` : undefined
}

export class LiveStats {
  readonly #minutes = new BucketRing(60_000, 61)
  readonly #hours = new BucketRing(3_600_000, 169)
  readonly #targets = new Map<string, BucketRing>()
  readonly providers = new Set<string>()
  observed = 0

  constructor(readonly since: number, readonly maxTargets = 500) {}

  observe(record: RequestRecord): void {
    const time = Number.isFinite(record.startedAt) ? record.startedAt : record.endedAt
    this.observed++
    this.#minutes.add(record, time)
    this.#hours.add(record, time)
    if (record.provider && this.providers.size < 1000) this.providers.add(record.provider)
    const target = targetOf(record)
    if (!target) return
    let ring = this.#targets.get(target)
    if (!ring) {
      if (this.#targets.size >= this.maxTargets) this.#targets.delete(this.#targets.keys().next().value!)
      ring = new BucketRing(60_000, TARGET_WINDOW_MINUTES)
    } else {
      this.#targets.delete(target) // re-insert: the map's order is least recently used first
    }
    this.#targets.set(target, ring)
    ring.add(record, time)
  }

  overview(range: Range, now: number) {
    const { widthMs, count } = RANGES[range]
    const ring = widthMs === 60_000 ? this.#minutes : this.#hours
    const buckets = ring.window(now, count)
    return {
      range, bucketMs: widthMs, from: buckets[0]!.start, to: now, since: this.since,
      totals: summarize(buckets),
      buckets: buckets.map((bucket) => {
        const { latency, ttfb, ...counts } = bucket
        return { ...counts, p50: quantile(latency, 0.5), p95: quantile(latency, 0.95), ttfbP50: quantile(ttfb, 0.5), ttfbP95: quantile(ttfb, 0.95) }
      }),
    }
  }

  /** Requests, errors and latency per target over the last few minutes. */
  targets(now: number): Map<string, Summary> {
    const out = new Map<string, Summary>()
    for (const [target, ring] of this.#targets) out.set(target, summarize(ring.window(now, TARGET_WINDOW_MINUTES)))
    return out
  }
}
