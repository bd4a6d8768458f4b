/**
 * The gateway's request metrics and how one finished record updates them. Labels use the upstream model and
 * provider (bounded by what is configured) rather than the model a client typed, and every label value passes
 * a cap, so no caller can grow the registry without limit.
 */
import { counter, gauge, histogram } from '../../core/index.ts'
import type { RequestRecord, Services } from '../../core/index.ts'
import { labelGuard } from '../../core/index.ts'

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
const TTFB_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30]
const CLIENT_CLOSED = 499
const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const

const requests = counter('sluice_requests_total', 'Finished requests by status, model and provider', ['status', 'model', 'provider', 'api'])
const duration = histogram('sluice_request_duration_seconds', 'Request latency from arrival to the end of the response', ['model', 'provider'], LATENCY_BUCKETS)
const ttfb = histogram('sluice_ttfb_seconds', 'Time to the first response byte', ['model', 'provider'], TTFB_BUCKETS)
const tokens = counter('sluice_tokens_total', 'Tokens by type (input, output, cached, reasoning)', ['type', 'model', 'provider'])
const estimated = counter('sluice_estimated_usage_total', 'Requests whose usage was estimated with a tokenizer', ['model', 'provider'])
const cost = counter('sluice_cost_usd_total', 'Cost in USD from the pricing table', ['model', 'provider'])
const upstreamErrors = counter('sluice_upstream_errors_total', 'Requests that reached a provider and failed', ['provider', 'type'])
const limited = counter('sluice_limiter_rejections_total', 'Requests refused with 429 before any upstream call', ['reason'])
const breakerState = gauge('sluice_breaker_state', 'Circuit state per target: 0 closed, 1 half-open, 2 open', ['target'])
const breakerFailures = gauge('sluice_breaker_failures', 'Recent failures counted by the breaker per target', ['target'])
const queueDepth = gauge('sluice_usage_queue_depth', 'Usage records waiting in memory for the store')

const modelLabel = labelGuard(500)
const providerLabel = labelGuard(100)
const reasonLabel = labelGuard(50)
const targetLabel = labelGuard(500)

export function observeRecord(record: RequestRecord): void {
  const model = modelLabel(record.upstreamModel ?? 'none')
  const provider = providerLabel(record.provider ?? 'none')
  const labels = { model, provider }
  requests.inc({ status: String(record.status), model, provider, api: record.api })
  if (record.latencyMs >= 0) duration.observe(labels, record.latencyMs / 1000)
  if (record.ttfbMs !== undefined && record.ttfbMs >= 0) ttfb.observe(labels, record.ttfbMs / 1000)

  const usage = record.usage
  if (usage) {
    if (usage.inputTokens > 0) tokens.inc({ type: 'input', ...labels }, usage.inputTokens)
    if (usage.outputTokens > 0) tokens.inc({ type: 'output', ...labels }, usage.outputTokens)
    if (usage.cachedTokens > 0) tokens.inc({ type: 'cached', ...labels }, usage.cachedTokens)
    if (usage.reasoningTokens > 0) tokens.inc({ type: 'reasoning', ...labels }, usage.reasoningTokens)
    if (usage.estimated) estimated.inc(labels)
  }
  if (record.costUSD && record.costUSD > 0) cost.inc(labels, record.costUSD)

  if (record.attempts > 0 && record.status >= 400 && record.status !== CLIENT_CLOSED) {
    upstreamErrors.inc({ provider, type: reasonLabel(record.outcome) })
  } else if (record.attempts === 0 && record.status === 429) {
    limited.inc({ reason: reasonLabel(record.outcome) })
  }
}

/** Gauges read from other plugins' services at scrape time. */
export function collectServiceGauges(breakers: Services['breakers'] | undefined, recorder: Services['recorder'] | undefined): void {
  if (breakers) {
    breakerState.reset()
    breakerFailures.reset()
    for (const entry of breakers.states()) {
      const target = targetLabel(entry.target)
      breakerState.set({ target }, BREAKER_VALUE[entry.state] ?? 0)
      breakerFailures.set({ target }, entry.failures)
    }
  }
  if (recorder) queueDepth.set(recorder.stats().queued ?? 0)
}
