/**
 * A webhook when a principal's spend crosses a fraction of its daily budget. The `record` hook adds each finished
 * request's cost (`record.costUSD`, priced by the core before any record hook runs) to its principal's total for
 * the UTC day, and when the total reaches a threshold it POSTs once — per principal, per threshold, per day.
 *
 * Off the hot path: record hooks run after the response has ended, and a failed delivery is logged, never thrown.
 * Each attempt has its own deadline and failed ones are retried with backoff. The hook returns the delivery, so a
 * graceful shutdown waits for deliveries under way (up to the shutdown timeout).
 *
 * Totals live in this process's memory: they start from zero when the process starts or the config is reloaded,
 * and replicas count apart. This plugin warns; to refuse spending past a budget, give keys() a budget.
 */
import { ofetch, type FetchError } from 'ofetch'
import { definePlugin, parseOptions, z } from 'sluice'
import type { PluginContext, RequestRecord } from 'sluice'

const optionsSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** Each principal's budget per UTC day, in USD. */
  budgetUSD: z.number().positive(),
  /** Fractions of the budget that each trigger one webhook a day. */
  thresholds: z.array(z.number().positive()).min(1).default([0.8, 1]),
  /** Extra request headers, e.g. a shared secret the receiver checks. */
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().min(1).default(5_000),
  retries: z.number().int().min(0).max(10).default(3),
  /** Delay before the first retry; it doubles for each one after. */
  retryDelayMs: z.number().int().min(0).default(500),
})

/** The JSON body the webhook receives. */
export interface BudgetAlert {
  type: 'budget.threshold'
  principal: string
  /** UTC day, `YYYY-MM-DD`. */
  day: string
  threshold: number
  budgetUSD: number
  spentUSD: number
}

interface DaySpend {
  day: string
  spentUSD: number
  alerted: Set<number>
}

/** Network errors, timeouts, 408, 429 and 5xx may pass on a later attempt; any other answer will not. */
function retryable(error: FetchError): boolean {
  const status = error.status
  return status === undefined || status === 408 || status === 429 || status >= 500
}

/** Why a delivery failed, without ofetch's message: it quotes the URL, and webhook URLs often hold a secret. */
function failureOf(error: FetchError): string {
  if (error.status) return `the receiver answered ${error.status}`
  return (error.cause as Error | undefined)?.name === 'TimeoutError' ? 'the receiver did not answer in time' : 'the receiver could not be reached'
}

export const budgetWebhook = definePlugin((input: z.input<typeof optionsSchema>) => {
  const options = parseOptions('budget-webhook', optionsSchema, input)
  const spend = new Map<string, DaySpend>()

  /** Adds the record's cost to its principal's day; the alerts for thresholds reached for the first time. */
  function alertsFor(record: RequestRecord): BudgetAlert[] {
    const principal = record.principalId
    if (!principal || !record.costUSD) return []
    const day = new Date(record.endedAt).toISOString().slice(0, 10)
    let today = spend.get(principal)
    if (today?.day !== day) spend.set(principal, (today = { day, spentUSD: 0, alerted: new Set() }))
    today.spentUSD += record.costUSD
    const alerts: BudgetAlert[] = []
    for (const threshold of options.thresholds) {
      if (today.alerted.has(threshold) || today.spentUSD < threshold * options.budgetUSD) continue
      // Marked before delivery: records finishing meanwhile must not send the same alert again.
      today.alerted.add(threshold)
      alerts.push({ type: 'budget.threshold', principal, day, threshold, budgetUSD: options.budgetUSD, spentUSD: today.spentUSD })
    }
    return alerts
  }

  async function deliver(alert: BudgetAlert, gw: PluginContext): Promise<void> {
    // The same key on every attempt, so a receiver can drop a repeat of an alert it already got.
    const headers = { ...options.headers, 'idempotency-key': `${encodeURIComponent(alert.principal)}:${alert.day}:${alert.threshold}` }
    for (let attempt = 0; ; attempt++) {
      try {
        // A deadline of our own per attempt and our own retries: ofetch's `timeout` covers only the wait for
        // the response headers, and its retry after a timeout reuses the aborted signal.
        await ofetch(options.url, { method: 'POST', body: alert, headers, retry: false, signal: AbortSignal.timeout(options.timeoutMs) })
        return
      } catch (error) {
        if (attempt >= options.retries || !retryable(error as FetchError)) {
          gw.logger.warn(`budget alert for ${alert.principal} (${alert.threshold * 100}% on ${alert.day}) not delivered: ${failureOf(error as FetchError)}`)
          return
        }
        await gw.clock.sleep(options.retryDelayMs * 2 ** attempt)
      }
    }
  }

  return {
    name: 'budget-webhook',
    // Shown by `sluice check` without the URL's path and the header values, where secrets usually are.
    options: { ...options, url: `${new URL(options.url).origin}/…`, headers: Object.keys(options.headers) },
    setup(gw) {
      // Without a pricing service records carry no cost, and this plugin would wait for a total that never grows.
      gw.onReady(() => {
        if (!gw.inject('pricing')) gw.logger.warn('no plugin provides "pricing" (add usage()): there is no cost to sum')
      })
    },
    hooks: {
      record(record, _ctx, gw) {
        const alerts = alertsFor(record)
        if (alerts.length > 0) return Promise.all(alerts.map((alert) => deliver(alert, gw))).then(() => {})
      },
    },
  }
})
