/**
 * `live()`: config changed at runtime, for every replica at once. The config file stays the base; a change is an
 * overlay (router aliases, providers switched off, and any section another plugin registers) stored as a
 * numbered, immutable snapshot (Postgres when configured, else the gateway's storage), checked whole before it
 * applies (one bad section refuses the change, nothing half-applied), announced on Redis pub/sub (or Postgres
 * LISTEN/NOTIFY) and applied by each replica as soon as it hears of it; a replica starting later reads the
 * current one. Requests already routed finish on what they were given. Admin API: GET/PUT /admin/config,
 * GET /admin/config/history, POST /admin/config/rollback.
 *
 *   live({ postgres: { url: process.env.DATABASE_URL }, redis: process.env.REDIS_URL })
 */
import { definePlugin, GatewayError } from '../../core/index.ts'
import type { PluginContext, RequestContext, SluicePlugin } from '../../core/index.ts'
import { mountLiveAdmin } from './admin.ts'
import { resolveLiveOptions, type LiveOptions } from './options.ts'
import { postgresPush, redisPush, type Push } from './push.ts'
import { LiveState } from './state.ts'
import { postgresStore, storageStore, type SnapshotStore } from './store.ts'
import type { LiveConfig } from './types.ts'

export type { LiveOptions }
export type { LiveConfig, LiveSection, Overlay, Snapshot } from './types.ts'

declare module '../../core/index.ts' {
  interface Services {
    /** Live config (the `live()` plugin): plugins register the sections of the overlay they take. */
    live: LiveConfig
  }
}

export const live = definePlugin((input: LiveOptions = {}): SluicePlugin => {
  const options = resolveLiveOptions(input)

  return {
    name: 'live',
    // After the router (-30): its route hook sees the plan the router made.
    order: -25,
    options: {
      store: options.postgres ? `postgres (schema ${options.postgres.schema ?? 'public'})` : 'gateway storage',
      push: options.redis ? 'redis' : options.postgres ? 'postgres' : 'none (one process)',
      channel: options.channel,
    },
    setup(gw: PluginContext) {
      const state = new LiveState(gw.logger)
      state.section<{ disabled: string[] }>('providers', {
        parse(value) {
          const disabled = parseDisabled(value)
          for (const name of disabled) if (!gw.getProvider(name)) throw new Error(`no provider "${name}" is registered`)
          return { disabled }
        },
        apply(parsed) { state.disabled = new Set(parsed?.disabled ?? []) },
        base: () => ({ enabled: [...providerNames(gw)] }),
      })
      gw.provide('live', state.service())

      let store: SnapshotStore | undefined
      let push: Push | undefined
      let timer: NodeJS.Timeout | undefined
      const refresh = () => store ? state.follow(store) : Promise.resolve()

      gw.onStart(async () => {
        if (options.postgres) {
          const pgStore = postgresStore(options.postgres.url, options.postgres.schema)
          store = pgStore
          await store.open()
          if (!options.redis) push = await postgresPush(pgStore.pool, options.postgres.url, options.channel, gw.logger, state.handlers(refresh))
        } else {
          store = storageStore(gw.storage)
        }
        if (options.redis) push = await redisPush(options.redis, options.channel, gw.logger, state.handlers(refresh))
        await refresh()
        state.started = true
        if (options.checkEveryMs > 0) {
          timer = setInterval(() => void refresh(), options.checkEveryMs)
          timer.unref()
        }
      })

      mountLiveAdmin(gw, state, {
        store: () => store,
        publish: (version) => push?.publish(version) ?? Promise.resolve(),
      })

      return {
        hooks: {
          route(ctx: RequestContext) {
            if (state.disabled.size === 0) return
            if (ctx.plan.length > 0) {
              const kept = ctx.plan.filter((target) => !state.disabled.has(target.provider))
              if (kept.length === ctx.plan.length) return
              if (kept.length === 0) throw switchedOff(ctx.plan[0]!.provider)
              ctx.plan = kept
              return
            }
            const slash = ctx.model.indexOf('/')
            if (slash > 0 && state.disabled.has(ctx.model.slice(0, slash))) throw switchedOff(ctx.model.slice(0, slash))
          },
        },
        async teardown() {
          clearInterval(timer)
          await push?.close()
          await store?.close()
        },
      }
    },
  }
})

function switchedOff(provider: string): GatewayError {
  return new GatewayError(503, `The provider "${provider}" is switched off on this gateway`, { type: 'api_error', code: 'provider_disabled' })
}

function parseDisabled(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected { disabled: ["provider", ...] }')
  const { disabled, ...rest } = value as { disabled?: unknown }
  const unknown = Object.keys(rest)[0]
  if (unknown) throw new Error(`unknown field "${unknown}" (expected disabled)`)
  if (disabled === undefined) return []
  if (!Array.isArray(disabled) || disabled.some((name) => typeof name !== 'string')) throw new Error('"disabled" must be a list of provider names')
  return [...new Set(disabled as string[])]
}

function providerNames(gw: PluginContext): string[] {
  // Providers are registered by name; the context offers lookups only, so ask the models list's owners.
  return gw.plugins().map((p) => p.name).filter((name) => gw.getProvider(name))
}
