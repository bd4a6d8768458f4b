/**
 * `cache()`: an exact-match response cache. Identical requests — the same messages, tools and answer-changing
 * parameters in the neutral view, to the same target model — are answered once by the upstream and then from
 * the cache, in whatever format the client speaks, streamed or not. Memory (a bounded LRU), files, or Redis
 * (shared by every replica).
 *
 *   cache()                                                    // memory, one hour
 *   cache({ store: { redis: process.env.REDIS_URL! }, ttl: 600, routes: { smart: { ttl: 60 } } })
 *
 * Headers: `x-sluice-cache: hit | miss | bypass` and `age`; the client sends `cache-control: no-cache` (refresh)
 * or `no-store` (bypass) and `x-sluice-cache-ttl: <seconds>`. Records of hits say `cached`, cost 0 and carry
 * `savedUSD`; `/metrics` has `sluice_cache_*`; `GET /admin/cache` this process's hit rate and savings.
 */
import { definePlugin } from '../../core/index.ts'
import type { PluginContext, RequestContext, RequestRecord, SluicePlugin } from '../../core/index.ts'
import { mountCacheAdmin } from './admin.ts'
import { createCacheCall, settleCached, type CircuitGate } from './call.ts'
import { Flights } from './flights.ts'
import { describeCacheOptions, parseCacheOptions, type CacheOptions } from './options.ts'
import type { CacheService } from './service.ts'
import { CacheStats } from './stats.ts'
import { CacheStore } from './store.ts'

export type { CacheOptions }
export type { CacheService } from './service.ts'
export type { CacheStatsSnapshot } from './stats.ts'
export { CACHE_HEADER } from './call.ts'

export const cache = definePlugin((input: CacheOptions = {}): SluicePlugin => {
  const settings = parseCacheOptions(input)
  return {
    name: 'cache',
    // Outside the router's fallback (-30), retry (-20) and breaker (-10): a hit skips them all. Inside responses() (-100).
    order: -50,
    options: describeCacheOptions(settings),
    setup(gw: PluginContext) {
      const stats = new CacheStats(gw.clock.now())
      const store = new CacheStore(settings, { clock: gw.clock, logger: gw.logger }, { onEvict: () => stats.evict() })
      const service: CacheService = {
        stats: () => {
          const size = store.size()
          stats.size(size)
          return stats.snapshot(store.kind, size)
        },
        clear: () => store.clear(),
      }
      gw.provide('cache', service)
      mountCacheAdmin(gw, service)

      let sweeper: ReturnType<typeof setInterval> | undefined
      gw.onStart(async () => {
        await store.connect()
        if (store.kind === 'fs' && settings.sweepSeconds > 0) {
          sweeper = setInterval(() => {
            store.sweep().catch((error) => gw.logger.warn(`cache: sweeping expired entries failed: ${(error as Error)?.message ?? error}`))
          }, settings.sweepSeconds * 1000)
          sweeper.unref()
        }
      })
      // Registered once every plugin is set up, so it is the last `limit` hook and its settle function runs first:
      // a hit's cost is 0 before a budget or any other settle function reads it.
      gw.onReady(() => {
        gw.hook('limit', (ctx: RequestContext) => (record: RequestRecord) => settleCached(record, ctx, stats))
      })

      return {
        hooks: { call: createCacheCall({ settings, store, flights: new Flights(), stats, clock: gw.clock, gate: () => gw.inject('breakers') as CircuitGate | undefined }) },
        teardown: async () => {
          clearInterval(sweeper)
          await store.close()
        },
      }
    },
  }
})

export default cache
