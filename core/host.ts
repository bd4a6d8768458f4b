/**
 * The plugin host: sorts plugins once, registers their hooks on hookable, runs their setup with a scoped
 * context, and keeps what they register (providers, services, model lists, teardowns).
 */
import { createHooks, type Hookable } from 'hookable'
import type { Storage } from 'unstorage'
import type { ConsolaInstance } from 'consola'
import type { H3, H3Event } from 'h3'
import { pluginStorage } from './storage.ts'
import { currentWorker } from './workers.ts'
import { ConfigError } from './errors.ts'
import { redactOptions } from './redact.ts'
import type { Clock, HookName, PluginContext, PluginHooks, Provider, RouteMethod, Services, SluicePlugin, Teardown } from './types.ts'

export interface PluginHostOptions {
  logger: ConsolaInstance
  storage: Storage
  app: H3
  clock: Clock
  mountAdmin: (method: RouteMethod, path: string, handler: (event: H3Event) => unknown) => void
  /** The pipeline's auth phase for plugin routes (`gw.authorize`); without it such routes refuse every caller. */
  authorize?: PluginContext['authorize']
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
  readonly #starts: Array<{ name: string; fn: () => void | Promise<void> }> = []

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
      workers: currentWorker(),
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
      onStart: (fn) => { host.#starts.push({ name: plugin.name, fn }) },
      authorize: (request, api = 'openai-chat') => host.options.authorize?.(request, api) ?? Promise.resolve({ error: authorizeUnavailable() }),
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

  /**
   * Registers each plugin's hooks and runs its setup, in order (hooks a setup returns take the plugin's place),
   * then the `onReady` callbacks. No I/O happens here unless a plugin breaks the rule: see `start`.
   */
  async setup(): Promise<void> {
    for (const plugin of this.plugins) {
      this.registered.set(plugin.name, new Set())
      const gw = this.contextFor(plugin)
      this.#register(plugin.name, plugin.hooks, gw)
      if (!plugin.setup) continue
      const result = await plugin.setup(gw)
      if (typeof result === 'function') this.#teardowns.push({ name: plugin.name, fn: result })
      else if (result) {
        this.#register(plugin.name, result.hooks, gw)
        if (result.teardown) this.#teardowns.push({ name: plugin.name, fn: result.teardown })
      }
    }
    for (const ready of this.#ready.splice(0)) await ready()
  }

  /** Runs the plugins' `onStart` callbacks (their I/O: databases, Redis), in plugin order. */
  async start(): Promise<void> {
    for (const { fn } of this.#starts.splice(0)) await fn()
  }

  /** Like `start`, but runs every callback and reports each failure instead of stopping at the first. */
  async probe(): Promise<Array<{ plugin: string; error?: string }>> {
    const results: Array<{ plugin: string; error?: string }> = []
    for (const { name, fn } of this.#starts.splice(0)) {
      try {
        await fn()
        results.push({ plugin: name })
      } catch (error) {
        results.push({ plugin: name, error: (error as Error)?.message ?? String(error) })
      }
    }
    return results
  }

  /** Each hook is called with its plugin's context as the last argument. */
  #register(plugin: string, hooks: PluginHooks | undefined, gw: PluginContext) {
    for (const [name, fn] of Object.entries(hooks ?? {})) {
      if (typeof fn !== 'function') continue
      this.#noteHook(plugin, name as HookName)
      this.hooks.hook(name as HookName, bindContext(name as HookName, fn as (...args: any[]) => unknown, gw))
    }
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

/** Fail closed when a host was built without the pipeline's auth phase (a bare test harness). */
function authorizeUnavailable(): Response {
  return Response.json({ error: { message: 'authorization is not available here', type: 'api_error', param: null, code: null } }, { status: 503 })
}

/** A hook with its plugin's context appended to its arguments (each hook's fixed arity keeps this cheap). */
function bindContext(name: HookName, fn: (...args: any[]) => unknown, gw: PluginContext): (...args: any[]) => unknown {
  switch (name) {
    case 'call': return (ctx, attempt, next) => fn(ctx, attempt, next, gw)
    case 'record': return (record, ctx) => fn(record, ctx, gw)
    default: return (ctx) => fn(ctx, gw)
  }
}
