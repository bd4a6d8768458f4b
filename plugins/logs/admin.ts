/** Admin routes of the request log: `GET /admin/requests` (filters, free text, paging) and `GET /admin/requests/:id`. */
import { getQuery, getRouterParam, type H3Event } from 'h3'
import { GatewayError } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import { decodeCursor, type LogQuery, type LogStore } from './store.ts'

const DEFAULT_LIMIT = 50
const MAX_LIMIT = 200
const STATUS_WORDS = new Set(['error', 'ok', '4xx', '5xx'])

const bad = (param: string, message: string) => new GatewayError(400, message, { type: 'invalid_request_error', param })
const unavailable = () => new GatewayError(503, 'the request log store is unavailable', { type: 'api_error' })

function text(query: Record<string, unknown>, name: string, max = 200): string | undefined {
  const value = query[name]
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') throw bad(name, `${name} must be given once`)
  if (value.length > max) throw bad(name, `${name} is longer than ${max} characters`)
  return value
}

/** Epoch ms from `1731000000000` or an ISO date (`2026-11-01`, `2026-11-01T12:00:00Z`). */
function time(query: Record<string, unknown>, name: string): number | undefined {
  const value = text(query, name, 40)
  if (value === undefined) return undefined
  const parsed = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(parsed)) throw bad(name, `${name} must be epoch milliseconds or an ISO date`)
  return parsed
}

export function parseLogQuery(query: Record<string, unknown>): LogQuery {
  const limitText = text(query, 'limit', 6)
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw bad('limit', `limit must be a whole number from 1 to ${MAX_LIMIT}`)
  const statusText = text(query, 'status', 5)
  let status: LogQuery['status']
  if (statusText !== undefined) {
    if (STATUS_WORDS.has(statusText)) status = statusText as LogQuery['status']
    else if (/^[1-5]\d\d$/.test(statusText)) status = Number(statusText)
    else throw bad('status', 'status must be an HTTP status, error, ok, 4xx or 5xx')
  }
  const cursor = text(query, 'cursor', 400)
  if (cursor !== undefined && !decodeCursor(cursor)) throw bad('cursor', 'cursor is not one this API gave out')
  const from = time(query, 'from')
  const to = time(query, 'to')
  if (from !== undefined && to !== undefined && from >= to) throw bad('from', 'from must be before to')
  return { key: text(query, 'key'), model: text(query, 'model'), provider: text(query, 'provider'), status, from, to, q: text(query, 'q', 500), limit, cursor }
}

export function mountLogsAdmin(gw: PluginContext, store: LogStore): void {
  gw.admin('GET', '/requests', async (event: H3Event) => {
    const query = parseLogQuery(getQuery(event) as Record<string, unknown>)
    return store.list(query).catch((error) => {
      gw.logger.warn('request log query failed:', error?.message ?? error)
      throw unavailable()
    })
  })
  gw.admin('GET', '/requests/:id', async (event: H3Event) => {
    let id: string | undefined
    try {
      id = getRouterParam(event, 'id', { decode: true })
    } catch {}
    const notFound = new GatewayError(404, 'no logged request with this id', { type: 'not_found_error', code: 'request_not_found' })
    if (!id || id.length > 200) throw notFound
    const entry = await store.get(id).catch((error) => {
      gw.logger.warn('request log lookup failed:', error?.message ?? error)
      throw unavailable()
    })
    if (!entry) throw notFound
    return entry
  })
}
