/**
 * `breaker()`: a circuit breaker per target (`provider/model`). Counts every upstream attempt, opens a circuit
 * when its failure ratio over a rolling window crosses the threshold, fails fast while it is open, lets a few
 * probes through after the cooldown and closes on a probe's success. Provides the `breakers` service, whose
 * `blockedFor(target)` lets the router skip open targets without calling them. Innermost of the resilience
 * hooks: `order: -10` (router fallback -30 → retry -20 → breaker -10 → provider).
 */
import { definePlugin } from '../../core/plugin.ts'
import { realClock } from '../../core/clock.ts'
import type { Clock, Services, Target } from '../../core/types.ts'
import { createBreakerHook } from './call.ts'
import { parseBreakerOptions, type BreakerOptions } from './options.ts'
import { CircuitRegistry } from './registry.ts'
import { startRedisSync } from './redis-sync.ts'

export type { BreakerOptions }
export { circuitOpenError } from './call.ts'
export { Circuit, type CircuitSettings, type CircuitState } from './circuit.ts'

/** The `breakers` service as this plugin provides it: the core's shape plus `blockedFor`. */
export type BreakerService = Services['breakers'] & { blockedFor(target: Target): number }

export const breaker = definePlugin((input: BreakerOptions = {}) => {
  const settings = parseBreakerOptions(input)
  let clock: Clock = settings.clock ?? realClock
  const registry = new CircuitRegistry(settings, settings.maxCircuits, () => clock)
  const { clock: _clock, redis, ...shown } = settings
  return {
    name: 'breaker',
    order: -10,
    options: { ...shown, redis: redis ? '(set)' : undefined },
    hooks: { call: createBreakerHook(registry, settings.failOn, () => clock) },
    setup(gw) {
      if (!settings.clock) clock = gw.clock
      const service: BreakerService = {
        states: () => registry.states(),
        blockedFor: (target) => registry.blockedFor(target),
      }
      gw.provide('breakers', service)
      if (!redis) return
      const sync = startRedisSync(redis, settings.redisPrefix, registry, gw.logger)
      return () => sync.close()
    },
  }
})
