/**
 * A small log-scale latency histogram: bucket i holds values up to GROWTH^i ms, so a percentile read from it is
 * an upper bound within 20% of the true value, whatever the spread. Fixed size, cheap to add and merge.
 */
const GROWTH = 1.2
const LOG_GROWTH = Math.log(GROWTH)
/** 1.2^80 ≈ 2.1 million ms (35 minutes): anything slower lands in the last bucket. */
export const HISTOGRAM_BUCKETS = 81

export type Histogram = Uint32Array

export const newHistogram = (): Histogram => new Uint32Array(HISTOGRAM_BUCKETS)

export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0
  return Math.min(HISTOGRAM_BUCKETS - 1, Math.ceil(Math.log(ms) / LOG_GROWTH - 1e-9))
}

export function addValue(histogram: Histogram, ms: number): void {
  histogram[bucketOf(ms)]!++
}

export function mergeInto(target: Histogram, source: Histogram): void {
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) target[i]! += source[i]!
}

/** The upper bound (ms, rounded) of the bucket holding quantile `q`; undefined when empty. */
export function quantile(histogram: Histogram, q: number): number | undefined {
  let total = 0
  for (const count of histogram) total += count
  if (total === 0) return undefined
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
    seen += histogram[i]!
    if (seen >= rank) return Math.round(GROWTH ** i)
  }
  return Math.round(GROWTH ** (HISTOGRAM_BUCKETS - 1))
}
