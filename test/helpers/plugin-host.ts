/**
 * The core's own plugin host, set up for plugin tests without a server: memory storage (or the given one), a
 * logger whose lines the tests read, admin routes behind TEST_ADMIN_KEY with the core's guard. Tests exercise
 * plugins through the same PluginContext the gateway hands them, so the context never drifts from the core's.
 */
import { H3 } from 'h3'
import { createConsola, type ConsolaInstance, type LogObject } from 'consola'
import { createStorage, type Storage } from 'unstorage'
import { PluginHost } from '../../core/host.ts'
import { createAdminMount } from '../../core/admin.ts'
import { realClock } from '../../core/clock.ts'
import type { Clock, GatewayHooks, HookName, PluginContext, SluicePlugin } from '../../core/types.ts'

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef'

export async function startPluginHost(plugins: SluicePlugin[], options: { storage?: Storage; clock?: Clock; logger?: ConsolaInstance } = {}) {
  const logs: LogObject[] = []
  const logger = options.logger ?? createConsola({ level: 5, throttle: 0, reporters: [{ log: (entry) => void logs.push(entry) }] })
  const app = new H3()
  const storage = options.storage ?? createStorage()
  const host = new PluginHost(plugins, {
    logger, storage, app, clock: options.clock ?? realClock, mountAdmin: createAdminMount(app, TEST_ADMIN_KEY, logger).mount,
  })
  await host.start()
  return {
    host,
    app,
    logs,
    storage,
    services: host.services,
    /** The context the named plugin was set up with (same namespace, services and routes). */
    context(name: string): PluginContext {
      return host.contextFor(host.plugins.find((plugin) => plugin.name === name)!)
    },
    /** The registered hooks of one phase, in the order the pipeline runs them. */
    hooksOf<N extends HookName>(name: N): GatewayHooks[N][] {
      return host.hooks.callHookWith((hooks) => hooks, name, []) as GatewayHooks[N][]
    },
    adminRequest(path: string, init: RequestInit = {}) {
      return app.request(path, { ...init, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...(init.headers as Record<string, string>) } })
    },
    close: () => host.stop(),
  }
}
