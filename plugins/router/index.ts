/**
 * `router()`: aliases that map a public model name to one or more `provider/model` targets, ordered per
 * request by a strategy (`fallback`, `weighted`, `round-robin`, `least-inflight`, `latency`), with per-target
 * params and timeouts. Its `call` hook falls back to the next target on 429, 5xx, timeouts and connection
 * errors (never other 4xx), and skips targets whose circuit is open. Outermost resilience hook: `order: -30`.
 *
 *   router({ models: {
 *     fast: ['ollama/llama3.2', 'openai/gpt-4o-mini'],
 *     smart: { targets: [{ model: 'anthropic/claude-sonnet-4-5', weight: 3 }, 'openai/gpt-4o'], strategy: 'weighted' },
 *   } })
 */
import { definePlugin } from '../../core/plugin.ts'
import { realClock } from '../../core/clock.ts'
import type { Clock, PluginContext } from '../../core/types.ts'
import { createFallbackHook, releaseReservation, type CircuitGate } from './fallback.ts'
import { parseRouterOptions, type RouterOptions } from './options.ts'
import { createRouteHook } from './route.ts'
import { TargetStats } from './stats.ts'
import { missingProviderWarnings } from './missing.ts'

/**
 * Not in the core yet: a callback run once every plugin's setup has finished (see docs/resilience.md). Until the
 * core offers it, the provider check runs at the first request.
 */

export type { RouterOptions }
export type { RouterState, CircuitGate } from './fallback.ts'
export { allOpenError } from './fallback.ts'

export const router = definePlugin((input: RouterOptions) => {
  const settings = parseRouterOptions(input)
  const stats = new TargetStats(settings.latency.alpha)
  let clock: Clock = settings.clock ?? realClock
  let gw: PluginContext | undefined

  /** Warns (once) about aliases naming providers nobody registered; needs every plugin's setup done. */
  let providersChecked = false
  function checkProviders(): void {
    if (providersChecked || !gw) return
    providersChecked = true
    const host = gw
    for (const line of missingProviderWarnings(settings.aliases.values(), (name) => host.getProvider(name) !== undefined)) host.logger.warn(line)
  }

  /** The breaker plugin's `breakers` service, when it offers `blockedFor` (looked up per request: setup order). */
  function gate(): CircuitGate | undefined {
    const service = gw?.inject('breakers') as Partial<CircuitGate> | undefined
    return typeof service?.blockedFor === 'function' ? (service as CircuitGate) : undefined
  }

  return {
    name: 'router',
    order: -30,
    options: { models: Object.fromEntries([...settings.aliases].map(([name, alias]) => [name, alias.targets.map((t) => t.key)])) },
    hooks: {
      route: createRouteHook(settings, stats, () => clock, () => gw, checkProviders),
      call: createFallbackHook({ fallbackOn: settings.fallbackOn, stats, clock: () => clock, gate }),
      // A request refused after routing (limit phase) never reached `call`: free its reserved slot.
      record: (_record, ctx) => releaseReservation(ctx.state.router, stats),
    },
    setup(context) {
      gw = context
      if (!settings.clock) clock = context.clock
      // Providers may register after this setup: check once they all have (at boot when the core signals it).
      context.onReady(checkProviders)
      // Only aliases something can serve (providers register in their own setup, so look at request time).
      context.addModels(() => {
        checkProviders()
        return [...settings.aliases.values()].filter((alias) => alias.targets.some((t) => context.getProvider(t.target.provider))).map((alias) => alias.name)
      })
    },
  }
})
