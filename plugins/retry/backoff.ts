/** Exponential backoff with full jitter: uniform in [0, min(max, base · 2^(retry-1))). */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry - 1, 30))
  return random() * ceiling
}

/**
 * How long to wait before retry number `retry` (1-based), or undefined when the upstream asked for a longer
 * pause than we are willing to wait (retrying sooner would only be refused again).
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | undefined,
  settings: { baseMs: number; maxMs: number; maxRetryAfterMs: number },
  random: () => number,
): number | undefined {
  if (retryAfterMs !== undefined) return retryAfterMs > settings.maxRetryAfterMs ? undefined : retryAfterMs
  return backoffMs(retry, settings.baseMs, settings.maxMs, random)
}
