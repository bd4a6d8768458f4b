/**
 * `governor()`: GCRA rate limits (requests per second/minute, tokens per minute, with a burst) and
 * concurrency limits in the `limit` hook, scoped per key, model, target, key×model or globally; settled by the
 * settle function `limit` returns, once the request has ended. Buckets live in memory (one process) or Redis (every replica shares them).
 *
 *   governor({ perKey: { rpm: 600, tpm: 1_000_000, maxConcurrent: 8 } })
 *   governor({ store: { redis: process.env.REDIS_URL! }, rules: [{ scope: 'model', rpm: 3000 }] })
 */
import { ConfigError, definePlugin } from '../../core/index.ts'
import type { PluginContext, RequestContext } from '../../core/index.ts'
import { Governor } from './governor.ts'
import { describeOptions, resolveGovernorOptions, type GovernorOptions } from './options.ts'

export type { GovernorOptions } from './options.ts'
export { Governor } from './governor.ts'

export const governor = definePlugin((input: GovernorOptions = {}) => {
  const options = resolveGovernorOptions(input)
  return {
    name: 'governor',
    options: describeOptions(options),
    setup(gw: PluginContext) {
      if (options.store === 'memory' && gw.workers.count > 1) {
        throw new ConfigError(`governor: the memory store counts in one process, so each of the ${gw.workers.count} workers would admit the whole limit; use store: { redis } with --workers`)
      }
      const governor = new Governor(options, { clock: gw.clock, logger: gw.logger })
      gw.onStart(() => governor.connect())
      return {
        hooks: { limit: (ctx: RequestContext) => governor.limit(ctx) },
        teardown: () => governor.close(),
      }
    },
  }
})

export default governor
