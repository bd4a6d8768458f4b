/**
 * `retry()`: repeats a failed upstream attempt on the same target, before any byte reached the client (the
 * `call` chain resolves only once the first chunk arrived, so everything it sees is still retryable).
 * Exponential backoff with full jitter, the upstream's retry-after honoured up to a cap, a budget per request.
 * Sits inside the router's fallback and outside the breaker: `order: -20`.
 */
import { definePlugin } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import { createRetryHook } from './call.ts'
import { parseRetryOptions, type RetryOptions } from './options.ts'

export type { RetryOptions }
export { backoffMs, retryDelayMs } from './backoff.ts'

export const retry = definePlugin((input: RetryOptions = {}) => {
  const settings = parseRetryOptions(input)
  const { clock: fixedClock, ...shown } = settings
  return {
    name: 'retry',
    order: -20,
    options: shown,
    setup(gw: PluginContext) {
      const clock = fixedClock ?? gw.clock
      return { hooks: { call: createRetryHook(settings, () => clock) } }
    },
  }
})
