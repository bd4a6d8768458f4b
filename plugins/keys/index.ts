/**
 * `keys()`: virtual keys for the `auth` phase (on the request's headers), with per-key model allow-lists
 * (`principal.allowsModel`, enforced by the core once the body is read), limits (read by the governor from
 * `ctx.principal.limits`) and budgets (reserved in `limit`, settled by the settle function it returns), an admin
 * API under `/admin/keys` and `sluice keys` commands.
 *
 * Cache staleness (see key-cache.ts): a change made on this process applies at once. Other replicas sharing the
 * storage drop their copy at once when `redis` is set (pub/sub), and in any case within `cacheTtlMs`, which
 * defaults to 1000 ms without `redis` and 5000 ms with it. Unknown ids are not remembered: every refusal reads
 * storage the same way (see auth.ts), so refusals cannot tell an unknown id from a wrong secret.
 */
import { ConfigError, definePlugin, parseOptions } from '../../core/index.ts'
import type { PluginContext, RequestContext, SluicePlugin } from '../../core/index.ts'
import { mountAdmin } from './admin.ts'
import { createAuthHook } from './auth.ts'
import { BudgetLedger } from './budget.ts'
import { BudgetGuard } from './budget-guard.ts'
import { keysCli } from './cli.ts'
import { sha256Hex } from './key-format.ts'
import { KeyStore } from './key-store.ts'
import { createInvalidator } from './invalidation.ts'
import { liveKeysSection } from './live.ts'
import { keysOptionsSchema, type KeysOptions, type KeysOptionsInput } from './schema.ts'

export type { KeysOptionsInput as KeysPluginOptions } from './schema.ts'
export type { KeyRecord, KeyView, KeyBudget, KeyLimits } from './schema.ts'

const DEFAULT_TTL_MS = 1000
const DEFAULT_TTL_WITH_PUBSUB_MS = 5000

export const keys = definePlugin((input: KeysOptionsInput = {}): SluicePlugin => {
  const options = parseOptions('keys', keysOptionsSchema, input)
  assertUniqueConfigKeys(options)

  return {
    name: 'keys',
    options: redacted(options),
    setup(gw: PluginContext) {
      const positiveTtlMs = options.cacheTtlMs ?? (options.redis ? DEFAULT_TTL_WITH_PUBSUB_MS : DEFAULT_TTL_MS)
      const store = new KeyStore({ storage: gw.storage, clock: gw.clock, configKeys: options.keys, positiveTtlMs })
      const ledger = new BudgetLedger({
        now: () => gw.clock.now(),
        refreshMs: options.spendRefreshMs,
        onRefreshError: (error) => gw.logger.warn(`keys: could not refresh spend (${(error as Error)?.message ?? error}); using the last figures`),
      })
      const budget = new BudgetGuard(ledger, gw, gw.logger, options.defaultMaxTokens)
      mountAdmin(gw, store, ledger)
      // With live(): policies of the config file's keys changed at runtime.
      gw.onReady(() => gw.inject('live')?.section('keys', liveKeysSection(store, options.keys ?? [])))
      if (options.redis) {
        const redis = options.redis
        gw.onStart(async () => {
          store.invalidator = await createInvalidator(redis, options.channel, gw.logger, {
            onKey: (id) => store.cache.invalidate(id),
            onReset: () => store.cache.clear(),
          })
        })
      }
      return {
        hooks: {
          auth: createAuthHook(store, gw.clock),
          limit: (ctx: RequestContext) => budget.limit(ctx),
        },
        teardown: () => store.invalidator.close(),
      }
    },
    cli: (gw) => keysCli(gw, options),
  }
})

function assertUniqueConfigKeys(options: KeysOptions): void {
  const names = new Set<string>()
  const digests = new Set<string>()
  for (const [i, declared] of (options.keys ?? []).entries()) {
    if (names.has(declared.name)) throw new ConfigError(`keys: option "keys.${i}.name": "${declared.name}" is declared twice`)
    const digest = sha256Hex(declared.key)
    if (digests.has(digest)) throw new ConfigError(`keys: option "keys.${i}.key": the same key is declared twice`)
    names.add(declared.name)
    digests.add(digest)
  }
}

/** Options as shown by `sluice check` and the dashboard: no key, no Redis password. */
function redacted(options: KeysOptions): Record<string, unknown> {
  return {
    ...options,
    keys: options.keys?.map(({ key: _key, ...rest }) => ({ ...rest, key: '<redacted>' })),
    redis: options.redis?.replace(/\/\/[^@/]*@/, '//<redacted>@'),
  }
}
