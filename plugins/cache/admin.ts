/**
 * The cache's admin routes (behind the admin key):
 *   GET    /admin/cache   this process's counters: hits, misses, bypassed, hit rate, USD saved, entries
 *   DELETE /admin/cache   empties the store (every replica's, when they share Redis)
 */
import type { PluginContext } from '../../core/index.ts'
import type { CacheService } from './service.ts'

export function mountCacheAdmin(gw: Pick<PluginContext, 'admin' | 'logger'>, service: CacheService): void {
  gw.admin('GET', '/cache', () => service.stats())
  gw.admin('DELETE', '/cache', async () => {
    await service.clear()
    gw.logger.info('cache: emptied by an admin request')
    return { cleared: true }
  })
}
