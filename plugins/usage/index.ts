/**
 * `usage()`: records every finished request — tokens, cost, latency, outcome — into SQLite (default) or
 * Postgres through a bounded queue, and offers `pricing`, `models` (output limits, reasoning), `usageEstimator`, `spend`
 * and `recorder` to the core and other plugins.
 *
 * The core completes and prices each record before any `record` hook runs: it asks this plugin's
 * `usageEstimator` (token estimates where the provider reported none: output from the stream's deltas as they
 * passed, the prompt with a bounded tokenizer pass), then its `pricing`. This plugin's `record` hook only hands
 * the finished record to the recorder. Admin routes: `GET /admin/usage`, `GET /admin/events`.
 */
import { codecFor, definePlugin } from '../../core/index.ts'
import type { PluginContext, RequestContext, RequestRecord, Services, SluicePlugin } from '../../core/index.ts'
import { eventsHandler, usageQueryHandler } from './admin.ts'
import { displayOptions, resolveUsageOptions, type UsageOptionsInput } from './options.ts'
import { createPostgresStore } from './postgres-store.ts'
import { createPricing, modelTable } from './pricing.ts'
import { DEFAULT_MODEL_CAPABILITIES } from './model-data.ts'
import { Recorder, type RecordListener } from './recorder.ts'
import { SpendTracker } from './spend.ts'
import { createSqliteStore } from './sqlite-store.ts'
import type { UsageStore } from './store.ts'
import { estimatePromptTokens, flushEstimate, mergeOutputEstimate, needsPromptEstimate, rawEventEstimator, type StreamEstimate } from './tokens.ts'

export type { UsageOptionsInput as UsagePluginOptions } from './options.ts'
export type { RecorderStats } from './recorder.ts'
export type { UsageRow, UsageQuery } from './store.ts'
export { PRICES_AS_OF } from './pricing-data.ts'

declare module '../../core/index.ts' {
  interface Services {
    /** Spend per principal since a time, from the store plus this process's records not stored yet. (usage plugin) */
    spend: { spentUSD(principalId: string, sinceMs: number): Promise<number> }
    /** Recording counters and the live feed of finished records. (usage plugin) */
    recorder: { stats(): Record<string, number>; subscribe(listener: RecordListener): () => void }
  }
}

const NAME = 'usage'
const FEED_HEARTBEAT_MS = 15_000

export const usage = definePlugin((input: UsageOptionsInput = {}): SluicePlugin => {
  const options = resolveUsageOptions(input)
  const pricing = createPricing(options.prices)

  return {
    name: NAME,
    options: displayOptions(options),
    setup(gw: PluginContext) {
      const store: UsageStore = options.postgres
        ? createPostgresStore({ ...options.postgres, logger: gw.logger })
        : createSqliteStore({ file: options.sqliteFile })
      const spend = new SpendTracker(store)
      const recorder = new Recorder({
        store,
        // Workers each spill to their own file: one file renamed for replay by two processes would lose lines.
        spillFile: gw.workers.count > 1 ? options.spillFile.replace(/(\.\w+)?$/, `.worker${gw.workers.index}$1`) : options.spillFile,
        queueSize: options.queueSize,
        batchSize: options.batchSize,
        flushIntervalMs: options.flushIntervalMs,
        journal: options.journal,
        clock: gw.clock,
        logger: gw.logger,
        onStored: (records) => spend.noteStored(records),
      })
      const recorderService: Services['recorder'] = {
        stats: () => recorder.stats(),
        subscribe: (listener) => recorder.subscribe(listener),
      }
      gw.provide('pricing', pricing)
      gw.provide('models', { capabilities: modelTable({ ...DEFAULT_MODEL_CAPABILITIES, ...options.models }) })
      gw.provide('usageEstimator', { complete: completeUsage, countInput: (ctx) => estimatePromptTokens(ctx.body ?? {}) })
      gw.provide('spend', spend.service())
      gw.provide('recorder', recorderService)

      const closed = new AbortController()
      gw.admin('GET', '/usage', usageQueryHandler(store, () => gw.clock.now()))
      gw.admin('GET', '/events', eventsHandler(recorderService.subscribe, { bufferSize: options.feedBufferSize, heartbeatMs: FEED_HEARTBEAT_MS, closed: closed.signal }))
      gw.onStart(async () => {
        await recorder.start()
        gw.logger.debug(`recording usage to ${options.store === 'postgres' ? 'postgres' : options.sqliteFile}`)
      })

      return {
        hooks: {
          stream(ctx: RequestContext) {
            const decoder = ctx.stream && codecFor(ctx.api).streamDecoder
            if (!decoder) return
            const estimate: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
            ctx.state[NAME] = estimate
            // The client-format events, decoded only when counting is needed (see rawEventEstimator).
            return { event: rawEventEstimator(estimate, () => decoder({ model: ctx.model, id: ctx.id })) }
          },
          record(record: RequestRecord) {
            spend.noteRecorded(record)
            recorder.add(record)
          },
        },
        async teardown() {
          closed.abort()
          await recorder.close()
        },
      }
    },
  }
})

/**
 * Folds the stream's output estimate into the record's usage, and estimates the prompt when no input count
 * arrived. Synchronous unless the prompt is large (then counted in slices, off the event loop's critical path).
 */
function completeUsage(record: RequestRecord, ctx: RequestContext): void | Promise<void> {
  const usage = record.usage
  const estimate = ctx.state?.[NAME] as StreamEstimate | undefined
  // The client may not have seen the provider's usage (the core hides a usage chunk it asked for), but the
  // core read it: a completed stream with provider numbers needs no count.
  const providerCounted = !usage.estimated && usage.outputTokens > 0 && record.outcome === 'ok'
  if (estimate && !estimate.finalUsageSeen && !providerCounted) flushEstimate(estimate)
  mergeOutputEstimate(usage, record.outcome, estimate)
  if (!needsPromptEstimate(record)) return
  const tokens = estimatePromptTokens(ctx.body ?? {})
  const apply = (count: number) => {
    if (count <= 0) return
    usage.inputTokens = count
    usage.estimated = true
  }
  if (typeof tokens === 'number') return apply(tokens)
  return tokens.then(apply)
}
