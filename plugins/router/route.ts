/** The router's `route` hook: an alias becomes `ctx.plan`, ordered by the alias's strategy. */
import { GatewayError } from '../../core/index.ts'
import type { Clock, PluginContext, RequestContext, Settle, Target } from '../../core/index.ts'
import { compileMatchers } from '../../core/index.ts'
import { releaseReservation, type RouterState } from './fallback.ts'
import type { RouterSettings } from './options.ts'
import type { TargetStats } from './stats.ts'
import { orderTargets } from './strategies.ts'
import { matchAlias, targetsFor } from './match.ts'

/**
 * The first target's in-flight slot is taken here, in the same synchronous step that chose it, so a burst of
 * requests routed before any reaches `call` still spreads over the targets. The settle function the hook
 * returns frees the slot if the request never got to `call` (a later gate refused it, the client left).
 */
export function createRouteHook(active: () => RouterSettings, stats: TargetStats, clock: Clock, gw: PluginContext) {
  // Compiled once per settings object (the config file's, then each live change's).
  const compiled = new WeakMap<RouterSettings, Map<string, ReturnType<typeof compileMatchers>>>()
  const fallbackOnOf = (settings: RouterSettings) => {
    let map = compiled.get(settings)
    if (!map) compiled.set(settings, (map = new Map([...settings.aliases].map(([name, alias]) => [name, compileMatchers(alias.fallbackOn)]))))
    return map
  }
  const turns = new Map<string, number>()

  // `provider/model` with a registered provider is a direct address: no glob (not even `*`) takes it.
  const addressesProvider = (model: string) => {
    const slash = model.indexOf('/')
    return slash > 0 && gw.getProvider(model.slice(0, slash)) !== undefined
  }

  return function route(ctx: RequestContext): Settle | undefined {
    if (ctx.plan.length > 0) return
    const settings = active()
    const alias = matchAlias(settings, ctx.model, addressesProvider)
    if (!alias) return

    const targets = targetsFor(alias, ctx.model).filter((t) => gw.getProvider(t.target.provider))
    if (targets.length === 0) {
      const matched = alias.pattern ? ` (matched by "${alias.name}")` : ''
      throw new GatewayError(404, `The model "${ctx.model}"${matched} has no available provider`, { type: 'invalid_request_error', code: 'model_not_found', param: 'model' })
    }

    const turn = turns.get(alias.name) ?? 0
    if (alias.strategy === 'round-robin') turns.set(alias.name, (turn + 1) % 1_000_000_007)
    ctx.plan = orderTargets({ alias, targets, stats, random: () => clock.random(), turn, explore: settings.latency.explore })
    const state: RouterState = (ctx.state.router ??= { skipped: [] })
    state.alias = alias.name
    state.fallbackOn = fallbackOnOf(settings).get(alias.name)
    releaseReservation(state, stats)
    state.reserved = targetKeyOf(ctx.plan[0]!)
    stats.started(state.reserved)
    return () => releaseReservation(state, stats)
  }
}

function targetKeyOf(target: Target): string {
  return `${target.provider}/${target.model}`
}
