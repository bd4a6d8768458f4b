/**
 * What happens to a record between a request's end and its `record` hooks, in one place for the pipeline and the
 * test kit: usage completed where the provider reported none (the `usageEstimator` service), priced once (the
 * `pricing` service), then the gate hooks' settle functions, last registered first. Each step's failure is
 * logged and does not stop the next.
 *
 * Synchronous unless a step returns a promise: most records finish without one, and a promise per step per
 * request was a visible share of the allocations behind a streamed request's GC time.
 */
import type { ConsolaInstance } from 'consola'
import type { Context } from './context.ts'
import type { RequestRecord, Services } from './types.ts'

/** Runs one step, logging its failure; a promise only when the step returned one. */
function guarded(logger: ConsolaInstance, what: string, run: () => unknown): Promise<void> | undefined {
  const failed = (error: unknown) => { logger.error(`${what} failed:`, (error as Error)?.message ?? error) }
  try {
    const result = run() as Promise<unknown> | undefined
    if (result && typeof result.then === 'function') return result.then(() => {}, failed)
  } catch (error) {
    failed(error)
  }
  return undefined
}

export function finalizeRecord(record: RequestRecord, ctx: Context, services: ReadonlyMap<string, unknown>, logger: ConsolaInstance): Promise<void> | undefined {
  const estimator = services.get('usageEstimator') as Services['usageEstimator'] | undefined
  const estimating = estimator && guarded(logger, 'usage estimation', () => estimator.complete(record, ctx))
  if (estimating) return estimating.then(() => priceAndSettle(record, ctx, services, logger))
  return priceAndSettle(record, ctx, services, logger)
}

function priceAndSettle(record: RequestRecord, ctx: Context, services: ReadonlyMap<string, unknown>, logger: ConsolaInstance): Promise<void> | undefined {
  const pricing = services.get('pricing') as Services['pricing'] | undefined
  if (pricing && record.provider && record.upstreamModel) {
    guarded(logger, 'pricing', () => { record.costUSD = pricing.cost(record.provider!, record.upstreamModel!, record.usage) ?? 0 })
  }
  return settleAll(record, ctx, logger)
}

/** Runs the request's settle functions once each, last registered first (each after the previous one's promise). */
export function settleAll(record: RequestRecord, ctx: Context, logger: ConsolaInstance): Promise<void> | undefined {
  const settles = ctx.settles.splice(0).reverse()
  const from = (index: number): Promise<void> | undefined => {
    for (let i = index; i < settles.length; i++) {
      const settle = settles[i]!
      const pending = guarded(logger, 'a settle function', () => settle(record))
      if (pending) return pending.then(() => from(i + 1))
    }
    return undefined
  }
  return from(0)
}
