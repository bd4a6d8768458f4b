/**
 * What happens to a record between a request's end and its `record` hooks, in one place for the pipeline and the
 * test kit: usage completed where the provider reported none (the `usageEstimator` service), priced once (the
 * `pricing` service), then the gate hooks' settle functions, last registered first. Each step's failure is
 * logged and does not stop the next.
 */
import type { ConsolaInstance } from 'consola'
import type { Context } from './context.ts'
import type { RequestRecord, Services } from './types.ts'

async function guarded(logger: ConsolaInstance, what: string, run: () => unknown): Promise<void> {
  try {
    await run()
  } catch (error) {
    logger.error(`${what} failed:`, (error as Error)?.message ?? error)
  }
}

export async function finalizeRecord(record: RequestRecord, ctx: Context, services: ReadonlyMap<string, unknown>, logger: ConsolaInstance): Promise<void> {
  const estimator = services.get('usageEstimator') as Services['usageEstimator'] | undefined
  if (estimator) await guarded(logger, 'usage estimation', () => estimator.complete(record, ctx))
  const pricing = services.get('pricing') as Services['pricing'] | undefined
  if (pricing && record.provider && record.upstreamModel) {
    await guarded(logger, 'pricing', () => { record.costUSD = pricing.cost(record.provider!, record.upstreamModel!, record.usage) ?? 0 })
  }
  await settleAll(record, ctx, logger)
}

/** Runs the request's settle functions once each, last registered first. */
export async function settleAll(record: RequestRecord, ctx: Context, logger: ConsolaInstance): Promise<void> {
  for (const settle of ctx.settles.splice(0).reverse()) await guarded(logger, 'a settle function', () => settle(record))
}
