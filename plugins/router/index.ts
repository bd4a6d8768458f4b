/**
 * `router()`: aliases that map a public model name to one or more `provider/model` targets, ordered per
 * request by a strategy (`fallback`, `weighted`, `round-robin`, `least-inflight`, `latency`), with per-target
 * params and timeouts. Its `call` hook falls back to the next target on 429, 5xx, timeouts and connection
 * errors (never other 4xx), and skips targets whose circuit is open. Outermost resilience hook: `order: -30`.
 * Alias names may be globs, `*` alone being the default route; a target model `*` is the requested name.
 *
 *   router({ models: {
 *     fast: ['ollama/llama3.2', 'openai/gpt-4o-mini'],
 *     smart: { targets: [{ model: 'anthropic/claude-sonnet-4-5', weight: 3 }, 'openai/gpt-4o'], strategy: 'weighted' },
 *     'claude-*': ['anthropic/*'],
 *     '*': ['openai/gpt-4o-mini'],
 *   } })
 */
import { definePlugin } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import { liveModelsSection } from './live.ts'
import { createFallbackHook, type CircuitGate } from './fallback.ts'
import { parseRouterOptions, type RouterOptions } from './options.ts'
import { createRouteHook } from './route.ts'
import { TargetStats } from './stats.ts'
import { missingProviderWarnings } from './missing.ts'
import { shadowedGlobWarnings } from './match.ts'

export type { RouterOptions }
export type { RouterState, CircuitGate } from './fallback.ts'
export { allOpenError } from './fallback.ts'

export const router = definePlugin((input: RouterOptions) => {
  const settings = parseRouterOptions(input)

  return {
    name: 'router',
    order: -30,
    options: { models: Object.fromEntries([...settings.aliases].map(([name, alias]) => [name, alias.targets.map((t) => t.key)])) },
    setup(gw: PluginContext) {
      let active = settings
      const stats = new TargetStats(settings.latency.alpha)
      const clock = settings.clock ?? gw.clock
      // Providers register in their own setup: check the aliases once every plugin's setup is done.
      gw.onReady(() => {
        const hasProvider = (name: string) => gw.getProvider(name) !== undefined
        for (const line of missingProviderWarnings(settings.aliases.values(), hasProvider)) gw.logger.warn(line)
        for (const line of shadowedGlobWarnings(settings.globs, hasProvider)) gw.logger.warn(line)
        // With live(): aliases changed at runtime, over the config file's (see live.ts).
        gw.inject('live')?.section('router', liveModelsSection(input, settings, hasProvider, (next) => { active = next }))
      })
      // Only exact aliases (a glob is not a model name) that something can serve.
      gw.addModels(() => [...active.exact.values()].filter((alias) => alias.targets.some((t) => gw.getProvider(t.target.provider))).map((alias) => alias.name))
      // The breaker's `breakers` service, when present, lets the fallback skip open targets without calling them.
      const gate = (): CircuitGate | undefined => gw.inject('breakers')
      return {
        hooks: {
          route: createRouteHook(() => active, stats, clock, gw),
          call: createFallbackHook({ fallbackOn: settings.fallbackOn, stats, clock: () => clock, gate }),
        },
      }
    },
  }
})
