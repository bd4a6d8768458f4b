/**
 * Plugins set up on the core's own plugin host, without a server, to test their hooks one phase at a time:
 * `gate` runs a phase's hooks as the pipeline does (settle functions kept), `finish` ends a request as the
 * pipeline does (settle functions, then `record` hooks, with one final record).
 */
import { H3 } from 'h3'
import { createConsola, type ConsolaInstance, type LogObject } from 'consola'
import { createStorage, type Storage } from 'unstorage'
import { GatewayError, realClock } from '../core/index.ts'
import type { Clock, GatewayHooks, HookName, PluginContext, RequestRecord, SluicePlugin, Usage } from '../core/index.ts'
import { PluginHost } from '../core/host.ts'
import { createAdminMount } from '../core/admin.ts'
import { gateCaller } from '../core/hook-callers.ts'
import { recordOf, type Context } from '../core/context.ts'
import { finalizeRecord, settleAll } from '../core/finalize.ts'
import { testContext, type TestContextInit } from './context.ts'

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef'

export interface HarnessOptions {
  storage?: Storage
  clock?: Clock
  logger?: ConsolaInstance
}

export interface RecordInit {
  status?: number
  outcome?: string
  usage?: Partial<Usage>
  costUSD?: number
}

export async function pluginHarness(plugins: SluicePlugin[], options: HarnessOptions = {}) {
  const logs: LogObject[] = []
  const logger = options.logger ?? createConsola({ level: 5, throttle: 0, reporters: [{ log: (entry) => void logs.push(entry) }] })
  const app = new H3()
  const storage = options.storage ?? createStorage()
  const clock = options.clock ?? realClock
  const host = new PluginHost(plugins, { logger, storage, app, clock, mountAdmin: createAdminMount(app, TEST_ADMIN_KEY, logger).mount })
  await host.setup()
  await host.start()

  return {
    host,
    app,
    logs,
    storage,
    services: host.services,
    /** A request context for hooks; see `testContext`. */
    context: (init: TestContextInit = {}): Context => testContext({ now: clock.now(), ...init }),
    /** The context the named plugin was set up with (same namespace, services and routes). */
    pluginContext(name: string): PluginContext {
      return host.contextFor(host.plugins.find((plugin) => plugin.name === name)!)
    },
    /** The registered hooks of one phase, in the order the pipeline runs them (each bound to its plugin). */
    hooksOf<N extends HookName>(name: N): GatewayHooks[N][] {
      return host.hooks.callHookWith((hooks) => hooks, name, []) as GatewayHooks[N][]
    },
    /** Runs a gate phase as the pipeline does: the GatewayError it answered with, or undefined when it passed. */
    async gate(phase: 'auth' | 'route' | 'limit', ctx: Context): Promise<GatewayError | undefined> {
      try {
        await host.hooks.callHookWith(gateCaller as any, phase, [ctx])
        return undefined
      } catch (error) {
        if (GatewayError.is(error)) return error
        throw error
      }
    },
    /**
     * Ends a request as the pipeline does: usage completed and priced (when plugins provide `usageEstimator` and
     * `pricing`; a given `costUSD` wins), settle functions (last first), then every `record` hook.
     */
    async finish(ctx: Context, init: RecordInit = {}): Promise<RequestRecord> {
      const record = recordOf(ctx, init.status ?? 200, init.outcome ?? 'ok', clock.now())
      if (init.usage) Object.assign(record.usage, init.usage)
      if (init.costUSD === undefined) await finalizeRecord(record, ctx, host.services, logger)
      else {
        record.costUSD = init.costUSD
        await settleAll(record, ctx, logger)
      }
      for (const hook of host.hooks.callHookWith((hooks) => hooks, 'record', []) as GatewayHooks['record'][]) await hook(record, ctx)
      return record
    },
    adminRequest(path: string, init: RequestInit = {}) {
      return app.request(path, { ...init, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...(init.headers as Record<string, string>) } })
    },
    close: () => host.stop(),
  }
}

export type PluginHarness = Awaited<ReturnType<typeof pluginHarness>>
