/**
 * `breaker()`: a circuit breaker per target (`provider/model`). Counts every upstream attempt, opens a circuit
 * when its failure ratio over a rolling window crosses the threshold, fails fast while it is open, lets a few
 * probes through after the cooldown and closes on a probe's success. Provides the `breakers` service, whose
 * `blockedFor(target)` lets the router skip open targets without calling them. Innermost of the resilience
 * hooks: `order: -10` (router fallback -30 → retry -20 → breaker -10 → provider).
 */
import { ConfigError, definePlugin } from '../../core/index.ts'
import type { PluginContext, Target } from '../../core/index.ts'
import { createBreakerHook } from './call.ts'
import { parseBreakerOptions, type BreakerOptions } from './options.ts'
import { CircuitRegistry } from './registry.ts'
import { startRedisSync } from './redis-sync.ts'

export type { BreakerOptions }
export { circuitOpenError } from './call.ts'
export { Circuit, type CircuitSettings, type CircuitState } from './circuit.ts'

declare module '../../core/index.ts' {
  interface Services {
    /** Circuit state per target, for metrics, the dashboard and the router. (breaker plugin) */
    breakers: BreakerService
  }
}

/** The `breakers` service this plugin provides. */
export interface BreakerService {
  states(): Array<{ target: string; state: 'closed' | 'open' | 'half-open'; failures: number; requests: number }>
  /** Milliseconds until `target` admits an attempt (0: now). The router skips targets that would wait. */
  blockedFor(target: Target): number
}

export const breaker = definePlugin((input: BreakerOptions = {}) => {
  const settings = parseBreakerOptions(input)
  const { clock: fixedClock, redis, ...shown } = settings
  return {
    name: 'breaker',
    order: -10,
    options: { ...shown, redis: redis ? '(set)' : undefined },
    setup(gw: PluginContext) {
      if (!redis && gw.workers.count > 1) {
        throw new ConfigError(`breaker: without redis each of the ${gw.workers.count} workers keeps its own circuits (a failing target would be tried ${gw.workers.count} times as often); set breaker({ redis }) with --workers`)
      }
      const clock = fixedClock ?? gw.clock
      const registry = new CircuitRegistry(settings, settings.maxCircuits, () => clock)
      gw.provide('breakers', {
        states: () => registry.states(),
        blockedFor: (target) => registry.blockedFor(target),
      })
      let sync: { close(): Promise<void> | void } | undefined
      if (redis) gw.onStart(() => { sync = startRedisSync(redis, settings.redisPrefix, registry, gw.logger) })
      return {
        hooks: { call: createBreakerHook(registry, settings.failOn, () => clock) },
        teardown: () => sync?.close(),
      }
    },
  }
})
