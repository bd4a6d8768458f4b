/**
 * `usage()`: records every finished request — tokens, cost, latency, outcome — into SQLite (default) or
 * Postgres through a bounded queue, and offers `pricing`, `spend` and `recorder` to other plugins.
 *
 * Hooks: `stream` counts output tokens per event in case the provider reports none; `record` folds those
 * estimates in (plus a prompt estimate when no input count arrived), re-prices if they changed usage, and
 * hands the record to the recorder. Admin routes: `GET /admin/usage`, `GET /admin/events`.
 *
 * `order: -50` runs this plugin's `record` hook before default-order plugins (budgets read the final cost
 * synchronously); the metrics plugin runs earlier still and reads finished records from `recorder.subscribe`.
 */
import { definePlugin } from '../../core/plugin.ts'
import type { PluginContext, RequestContext, RequestRecord, Services, SluicePlugin } from '../../core/types.ts'
import { eventsHandler, usageQueryHandler } from './admin.ts'
import { displayOptions, resolveUsageOptions, type UsageOptionsInput } from './options.ts'
import { createPostgresStore } from './postgres-store.ts'
import { createPricing, type PricingService } from './pricing.ts'
import { Recorder } from './recorder.ts'
import { SpendTracker } from './spend.ts'
import { createSqliteStore } from './sqlite-store.ts'
import type { UsageStore } from './store.ts'
import { estimatePromptTokens, flushEstimate, mergeOutputEstimate, needsPromptEstimate, outputEstimator, type StreamEstimate } from './tokens.ts'

export type { UsageOptionsInput as UsagePluginOptions } from './options.ts'
export type { RecorderStats } from './recorder.ts'
export type { UsageRow, UsageQuery } from './store.ts'
export { PRICES_AS_OF } from './pricing-data.ts'

const NAME = 'usage'
const FEED_HEARTBEAT_MS = 15_000

interface Runtime {
  recorder: Recorder
  spend: SpendTracker
}

export const usage = definePlugin((input: UsageOptionsInput = {}): SluicePlugin => {
  const options = resolveUsageOptions(input)
  const pricing = createPricing(options.prices)
  let runtime: Runtime | undefined

  return {
    name: NAME,
    order: -50,
    options: displayOptions(options),
    hooks: {
      stream(ctx: RequestContext) {
        if (!runtime || (ctx.api !== 'openai-chat' && ctx.api !== 'anthropic-messages')) return
        const estimate: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
        ctx.state[NAME] = estimate
        return outputEstimator(estimate)
      },
      record(record: RequestRecord, ctx: RequestContext) {
        const active = runtime
        if (!active) return
        return finalizeAndRecord(record, ctx, pricing, active)
      },
    },
    async setup(gw: PluginContext) {
      const store: UsageStore = options.postgres
        ? createPostgresStore({ ...options.postgres, logger: gw.logger })
        : createSqliteStore({ file: options.sqliteFile })
      const spend = new SpendTracker(store)
      const recorder = new Recorder({
        store,
        spillFile: options.spillFile,
        queueSize: options.queueSize,
        batchSize: options.batchSize,
        flushIntervalMs: options.flushIntervalMs,
        clock: gw.clock,
        logger: gw.logger,
        onStored: (records) => spend.noteStored(records),
      })
      const recorderService: Services['recorder'] = {
        stats: () => recorder.stats(),
        subscribe: (listener) => recorder.subscribe(listener),
      }
      gw.provide('pricing', pricing)
      gw.provide('spend', spend.service())
      gw.provide('recorder', recorderService)

      const closed = new AbortController()
      gw.admin('GET', '/usage', usageQueryHandler(store, () => gw.clock.now()))
      gw.admin('GET', '/events', eventsHandler(recorderService.subscribe, { bufferSize: options.feedBufferSize, heartbeatMs: FEED_HEARTBEAT_MS, closed: closed.signal }))

      await recorder.start()
      runtime = { recorder, spend }
      gw.logger.debug(`recording usage to ${options.store === 'postgres' ? 'postgres' : options.sqliteFile}`)
      return async () => {
        closed.abort()
        await recorder.close()
      }
    },
  }
})

/**
 * Folds estimates into the record, re-prices it when they changed its usage, and records it. The synchronous
 * part runs before the hook returns; only a large prompt estimate continues asynchronously. The record is
 * handed on whatever happens in between.
 */
function finalizeAndRecord(record: RequestRecord, ctx: RequestContext, pricing: PricingService, runtime: Runtime): void | Promise<void> {
  const usage = record.usage
  // The core priced a zero usage without counting it as unpriced; count it now if it turns out non-zero.
  const pricedAsZero = usage.inputTokens <= 0 && usage.outputTokens <= 0
  let changed = false
  const done = () => {
    try {
      if (changed && record.provider && record.upstreamModel) {
        record.costUSD = pricing.costOf(record.provider, record.upstreamModel, usage, pricedAsZero) ?? 0
      }
    } finally {
      runtime.spend.noteRecorded(record)
      runtime.recorder.add(record)
    }
  }
  try {
    const estimate = ctx.state?.[NAME] as StreamEstimate | undefined
    // The client may not have seen the provider's usage (the core hides a usage chunk it asked for), but the
    // core read it: a completed stream with provider numbers needs no count.
    const providerCounted = !usage.estimated && usage.outputTokens > 0 && record.outcome === 'ok'
    if (estimate && !estimate.finalUsageSeen && !providerCounted) flushEstimate(estimate)
    changed = mergeOutputEstimate(usage, record.outcome, estimate)
    if (needsPromptEstimate(record)) {
      const tokens = estimatePromptTokens(ctx.body ?? {})
      if (typeof tokens !== 'number') {
        return tokens.then((count) => {
          if (count > 0) {
            usage.inputTokens = count
            usage.estimated = true
            changed = true
          }
        }).finally(done)
      }
      if (tokens > 0) {
        usage.inputTokens = tokens
        usage.estimated = true
        changed = true
      }
    }
  } catch (error) {
    done()
    throw error
  }
  done()
}
