/**
 * The plugin host: sorts plugins once, registers their hooks on hookable, runs their setup with a scoped
 * context, and keeps what they register (providers, services, model lists, teardowns).
 */
import { createHooks, type Hookable } from 'hookable'
import type { Storage } from 'unstorage'
import type { ConsolaInstance } from 'consola'
import type { H3, H3Event } from 'h3'
import { pluginStorage } from './storage.ts'
import { ConfigError } from './errors.ts'
import { redactOptions } from './redact.ts'
import type { Clock, HookName, PluginContext, Provider, RouteMethod, Services, SluicePlugin, Teardown } from './types.ts'

export interface PluginHostOptions {
  logger: ConsolaInstance
  storage: Storage
  app: H3
  clock: Clock
  mountAdmin: (method: RouteMethod, path: string, handler: (event: H3Event) => unknown) => void
}

const ENFORCE_ORDER = { pre: -100, post: 100 } as const

export function pluginOrder(plugin: SluicePlugin): number {
  return plugin.order ?? (plugin.enforce ? ENFORCE_ORDER[plugin.enforce] : 0)
}

/** Stable sort by order; config order breaks ties. */
export function sortPlugins(plugins: SluicePlugin[]): SluicePlugin[] {
  return plugins.map((plugin, index) => ({ plugin, index }))
    .sort((a, b) => pluginOrder(a.plugin) - pluginOrder(b.plugin) || a.index - b.index)
    .map(({ plugin }) => plugin)
}

export class PluginHost {
  // Typed at the edges (PluginContext.hook, the pipeline's callers); hookable's own generics fight our signatures.
  readonly hooks: Hookable<any> = createHooks<any>()
  readonly providers = new Map<string, Provider>()
  readonly services = new Map<string, unknown>()
  readonly modelLists: Array<() => string[]> = []
  readonly plugins: SluicePlugin[]
  /** Which hooks each plugin registered, for `sluice check`. */
  readonly registered = new Map<string, Set<HookName>>()
  readonly #teardowns: Array<{ name: string; fn: Teardown }> = []
  readonly #ready: Array<() => void | Promise<void>> = []

  constructor(plugins: SluicePlugin[], readonly options: PluginHostOptions) {
    this.plugins = sortPlugins(plugins)
  }

  contextFor(plugin: SluicePlugin): PluginContext {
    const host = this
    const { logger, storage, app, clock, mountAdmin } = this.options
    return {
      name: plugin.name,
      logger: logger.withTag(plugin.name),
      storage: pluginStorage(storage, plugin.name),
      rootStorage: storage,
      app,
      clock,
      hook(name, fn) {
        host.#noteHook(plugin.name, name)
        return host.hooks.hook(name, fn as any)
      },
      registerProvider(provider) {
        if (host.providers.has(provider.name)) throw new ConfigError(`${plugin.name}: a provider named "${provider.name}" is already registered (give one instance another name)`)
        host.providers.set(provider.name, provider)
      },
      getProvider: (name) => host.providers.get(name),
      addModels: (list) => { host.modelLists.push(list) },
      admin: mountAdmin,
      provide(name, value) {
        host.services.set(name, value)
      },
      inject<K extends keyof Services>(name: K) {
        return host.services.get(name) as Services[K] | undefined
      },
      onReady: (fn) => { host.#ready.push(fn) },
      plugins: () => host.plugins.map((p) => ({
        name: p.name,
        order: pluginOrder(p),
        hooks: [...(host.registered.get(p.name) ?? [])],
        options: p.options ? redactOptions(p.options) : undefined,
      })),
    }
  }

  #noteHook(plugin: string, hook: HookName) {
    let set = this.registered.get(plugin)
    if (!set) this.registered.set(plugin, (set = new Set()))
    set.add(hook)
  }

  /** Registers each plugin's hooks and runs its setup, in order. */
  async start(): Promise<void> {
    for (const plugin of this.plugins) {
      this.registered.set(plugin.name, new Set())
      for (const [name, fn] of Object.entries(plugin.hooks ?? {})) {
        if (typeof fn !== 'function') continue
        this.#noteHook(plugin.name, name as HookName)
        this.hooks.hook(name as HookName, fn as any)
      }
      if (plugin.setup) {
        const teardown = await plugin.setup(this.contextFor(plugin))
        if (typeof teardown === 'function') this.#teardowns.push({ name: plugin.name, fn: teardown })
      }
    }
    for (const ready of this.#ready.splice(0)) await ready()
  }

  /** Runs teardowns in reverse order; one failing does not stop the others. */
  async stop(): Promise<void> {
    for (const { name, fn } of this.#teardowns.reverse()) {
      try {
        await fn()
      } catch (error) {
        this.options.logger.withTag(name).error('teardown failed:', (error as Error)?.message ?? error)
      }
    }
    this.#teardowns.length = 0
    for (const provider of this.providers.values()) {
      try {
        await provider.close?.()
      } catch {}
    }
  }
}
