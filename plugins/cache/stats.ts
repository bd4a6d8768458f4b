/**
 * What the cache counts: Prometheus counters on the shared registry (served by `metrics()` at `/metrics`), and the
 * same numbers for this process as the `cache` service and `GET /admin/cache` (what the dashboard shows).
 * Hit rate is hits ÷ (hits + misses); bypassed requests are neither.
 */
import { counter, gauge } from '../../core/index.ts'

export type CacheResult = 'hit' | 'miss' | 'bypass'

const requests = counter('sluice_cache_requests_total', 'Requests by what the response cache did with them: hit, miss or bypass', ['result'])
const saved = counter('sluice_cache_saved_usd_total', 'USD the upstream would have cost for the answers served from the cache')
const stored = counter('sluice_cache_stored_total', 'Answers written to the response cache')
const evicted = counter('sluice_cache_evictions_total', 'Entries pushed out of the memory cache to make room')
const entries = gauge('sluice_cache_entries', 'Entries held by the memory cache')
const bytes = gauge('sluice_cache_bytes', 'Bytes (serialised JSON) held by the memory cache')

export interface CacheStatsSnapshot {
  store: 'memory' | 'fs' | 'redis'
  hits: number
  misses: number
  bypassed: number
  /** hits ÷ (hits + misses); null before the first of either. */
  hitRate: number | null
  savedUSD: number
  stored: number
  evictions: number
  /** Memory store only. */
  entries?: number
  bytes?: number
  since: number
}

export class CacheStats {
  hits = 0
  misses = 0
  bypassed = 0
  savedUSD = 0
  stored = 0
  evictions = 0

  constructor(readonly since: number) {}

  count(result: CacheResult): void {
    requests.inc({ result })
    if (result === 'hit') this.hits++
    else if (result === 'miss') this.misses++
    else this.bypassed++
  }

  save(usd: number): void {
    if (!(usd > 0)) return
    saved.inc(usd)
    this.savedUSD += usd
  }

  wrote(): void {
    stored.inc()
    this.stored++
  }

  evict(): void {
    evicted.inc()
    this.evictions++
  }

  /** The memory store's size, as gauges (read at scrape and stats time). */
  size(size: { entries: number; bytes: number } | undefined): void {
    if (!size) return
    entries.set(size.entries)
    bytes.set(size.bytes)
  }

  snapshot(store: CacheStatsSnapshot['store'], size?: { entries: number; bytes: number }): CacheStatsSnapshot {
    const looked = this.hits + this.misses
    return {
      store,
      hits: this.hits,
      misses: this.misses,
      bypassed: this.bypassed,
      hitRate: looked ? this.hits / looked : null,
      savedUSD: this.savedUSD,
      stored: this.stored,
      evictions: this.evictions,
      ...size,
      since: this.since,
    }
  }
}
