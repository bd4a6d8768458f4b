/** The `cache` service other plugins (the dashboard) read: this process's counters, and a way to empty the store. */
import type { CacheStatsSnapshot } from './stats.ts'

export interface CacheService {
  stats(): CacheStatsSnapshot
  clear(): Promise<void>
}

declare module '../../core/index.ts' {
  interface Services {
    /** The response cache's counters and store. (cache plugin) */
    cache: CacheService
  }
}
