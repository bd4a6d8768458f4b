/** The OpenAI-style `x-ratelimit-*` headers, on admitted responses and on every 429. */
import type { GcraResult } from './gcra.ts'
import type { RateLimit, Unit } from './limits.ts'

/**
 * A duration the way OpenAI writes its reset headers (Go's `time.Duration` format): `120ms`, `1s`, `1.5s`,
 * `6m0s`, `1h2m3s`. Sub-second values are whole milliseconds, rounded up so a client never comes back early.
 */
export function formatReset(ms: number): string {
  if (!(ms > 0)) return '0s'
  if (ms < 1000) return `${Math.ceil(ms)}ms`
  const totalMs = Math.ceil(ms)
  const hours = Math.floor(totalMs / 3_600_000)
  const minutes = Math.floor((totalMs % 3_600_000) / 60_000)
  const seconds = (totalMs % 60_000) / 1000
  const s = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`
  if (hours) return `${hours}h${minutes}m${s}`
  if (minutes) return `${minutes}m${s}`
  return s
}

/** The most constraining limit of one unit: the one with the fewest units left. */
function tightest(limits: RateLimit[], results: GcraResult[], unit: Unit): number {
  let best = -1
  for (let i = 0; i < limits.length; i++) {
    if (limits[i]!.unit !== unit) continue
    if (best < 0 || results[i]!.remaining < results[best]!.remaining) best = i
  }
  return best
}

const NAMES = {
  requests: ['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'],
  tokens: ['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'],
} as const

/** Writes the trio for requests and for tokens (each from its tightest limit) through `set`. */
export function writeRateLimitHeaders(limits: RateLimit[], results: GcraResult[], set: (name: string, value: string) => void): void {
  for (const unit of ['requests', 'tokens'] as const) {
    const i = tightest(limits, results, unit)
    if (i < 0) continue
    const names = NAMES[unit]
    set(names[0], String(limits[i]!.limit))
    set(names[1], String(results[i]!.remaining))
    set(names[2], formatReset(results[i]!.resetMs))
  }
}

export function rateLimitHeaders(limits: RateLimit[], results: GcraResult[]): Record<string, string> {
  const headers: Record<string, string> = {}
  writeRateLimitHeaders(limits, results, (name, value) => {
    headers[name] = value
  })
  return headers
}
