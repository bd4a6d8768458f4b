/** The router's `route` hook: an alias becomes `ctx.plan`, ordered by the alias's strategy. */
import { GatewayError } from '../../core/errors.ts'
import type { Clock, PluginContext, RequestContext, Target } from '../../core/types.ts'
import { compileMatchers } from '../../core/failure.ts'
import { releaseReservation, type RouterState } from './fallback.ts'
import type { RouterSettings } from './options.ts'
import type { TargetStats } from './stats.ts'
import { orderTargets } from './strategies.ts'

/** `checkProviders` runs before the first routing decision (it warns about aliases naming unknown providers). */
export function createRouteHook(settings: RouterSettings, stats: TargetStats, clock: () => Clock, gw: () => PluginContext | undefined, checkProviders: () => void) {
  const fallbackOn = new Map([...settings.aliases].map(([name, alias]) => [name, compileMatchers(alias.fallbackOn)]))
  const turns = new Map<string, number>()

  return function route(ctx: RequestContext): void {
    checkProviders()
    if (ctx.plan.length > 0) return
    const alias = settings.aliases.get(ctx.model)
    if (!alias) return

    const host = gw()
    const targets = host ? alias.targets.filter((t) => host.getProvider(t.target.provider)) : alias.targets
    if (targets.length === 0) {
      throw new GatewayError(404, `The model "${alias.name}" has no available provider`, { type: 'invalid_request_error', code: 'model_not_found', param: 'model' })
    }

    const turn = turns.get(alias.name) ?? 0
    if (alias.strategy === 'round-robin') turns.set(alias.name, (turn + 1) % 1_000_000_007)
    const now = clock()
    ctx.plan = orderTargets({ alias, targets, stats, random: () => now.random(), turn, explore: settings.latency.explore })
    const state: RouterState = (ctx.state.router ??= { skipped: [] })
    state.alias = alias.name
    state.fallbackOn = fallbackOn.get(alias.name)
    releaseReservation(state, stats)
    state.reserved = targetKeyOf(ctx.plan[0]!)
    stats.started(state.reserved)
  }
}

function targetKeyOf(target: Target): string {
  return `${target.provider}/${target.model}`
}
