/** Admin routes of the usage plugin: the usage query and the live event feed. */
import { getQuery, type H3Event } from 'h3'
import { GatewayError } from '../../core/index.ts'
import type { UsageQuery, UsageStore } from './store.ts'
import { createFeedStream, type Subscribe } from './feed.ts'

const DAY_MS = 86_400_000
const GROUPS = new Set(['key', 'model', 'provider', 'day', 'hour', 'minute'])

/** Epoch ms from `1731000000000` or an ISO date (`2025-11-01`, `2025-11-01T12:00:00Z`). */
function parseTime(name: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined
  const text = String(value)
  const time = /^\d+$/.test(text) ? Number(text) : Date.parse(text)
  if (!Number.isFinite(time)) throw new GatewayError(400, `${name} must be epoch milliseconds or an ISO date`, { type: 'invalid_request_error', param: name })
  return time
}

/** `?from&to&groupBy`: defaults to the last 24 hours grouped by model. */
export function parseUsageQuery(query: Record<string, unknown>, now: number): UsageQuery {
  const groupBy = query.groupBy === undefined || query.groupBy === '' ? 'model' : String(query.groupBy)
  if (!GROUPS.has(groupBy)) throw new GatewayError(400, 'groupBy must be one of key, model, provider, day', { type: 'invalid_request_error', param: 'groupBy' })
  const to = parseTime('to', query.to) ?? now
  const from = parseTime('from', query.from) ?? to - DAY_MS
  if (from >= to) throw new GatewayError(400, 'from must be before to', { type: 'invalid_request_error', param: 'from' })
  return { from, to, groupBy: groupBy as UsageQuery['groupBy'] }
}

export function usageQueryHandler(store: UsageStore, now: () => number) {
  return async (event: H3Event) => {
    const query = parseUsageQuery(getQuery(event) as Record<string, unknown>, now())
    const rows = await store.query(query).catch(() => {
      throw new GatewayError(503, 'the usage store is unavailable', { type: 'api_error' })
    })
    return { from: new Date(query.from).toISOString(), to: new Date(query.to).toISOString(), groupBy: query.groupBy, rows }
  }
}

export function eventsHandler(subscribe: Subscribe, options: { bufferSize: number; heartbeatMs: number; closed: AbortSignal }) {
  return (event: H3Event) => {
    const signal = AbortSignal.any([event.req.signal, options.closed])
    const body = createFeedStream(subscribe, { bufferSize: options.bufferSize, heartbeatMs: options.heartbeatMs, signal })
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    })
  }
}
