/**
 * The dashboard's own admin routes (behind the core's admin guard), for what the usage and keys APIs do not
 * answer: latency percentiles and time buckets from this process's records, breaker targets with their
 * recent traffic, and what the gateway's services expose.
 *   GET /admin/dashboard/session            200 when the admin key is right; which services exist
 *   GET /admin/dashboard/overview?range=    hour | day | week: buckets and totals, p50/p95 latency and TTFB
 *   GET /admin/dashboard/targets            breaker state per target plus its last five minutes
 *   GET /admin/dashboard/config             services, recorder counters, this plugin's options
 */
import { getQuery } from 'h3'
import { GatewayError } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import { RANGES, type LiveStats, type Range } from './stats.ts'

type ApiContext = Pick<PluginContext, 'admin' | 'clock' | 'inject' | 'plugins'>

const SERVICE_NAMES = ['pricing', 'spend', 'recorder', 'breakers'] as const

export function mountDashboardApi(gw: ApiContext, stats: LiveStats, options: { shown: Record<string, unknown> }) {
  const services = () => Object.fromEntries(SERVICE_NAMES.map((name) => [name, gw.inject(name) !== undefined]))

  gw.admin('GET', '/dashboard/session', () => {
    return { ok: true, services: services(), since: new Date(stats.since).toISOString() }
  })

  gw.admin('GET', '/dashboard/overview', (event) => {
    const range = String(getQuery(event).range ?? 'hour')
    if (!(range in RANGES)) throw new GatewayError(400, 'range must be one of hour, day, week', { type: 'invalid_request_error', param: 'range' })
    return { ...stats.overview(range as Range, gw.clock.now()), source: 'memory', usage: gw.inject('recorder') !== undefined }
  })

  gw.admin('GET', '/dashboard/targets', () => {
    const breakers = gw.inject('breakers')
    const recent = stats.targets(gw.clock.now())
    const rows = new Map<string, Record<string, unknown>>()
    for (const state of breakers?.states() ?? []) rows.set(state.target, { target: state.target, state: state.state, failures: state.failures, requests: state.requests })
    for (const [target, summary] of recent) {
      rows.set(target, {
        target, state: null, ...rows.get(target),
        recent: {
          requests: summary.requests, errors: summary.errors,
          errorRate: summary.requests ? summary.errors / summary.requests : 0,
          p50: summary.latency.p50, p95: summary.latency.p95, ttfbP50: summary.ttfb.p50,
        },
      })
    }
    const targets = [...rows.values()].sort((a, b) => String(a.target).localeCompare(String(b.target)))
    return { breaker: breakers !== undefined, windowMinutes: 5, targets }
  })

  gw.admin('GET', '/dashboard/config', () => {
    return {
      plugins: gw.plugins(),
      services: services(),
      recorder: gw.inject('recorder')?.stats() ?? null,
      breakers: gw.inject('breakers')?.states().length ?? null,
      providersSeen: [...stats.providers].sort(),
      recordsSeen: stats.observed,
      since: new Date(stats.since).toISOString(),
      dashboard: options.shown,
    }
  })
}
