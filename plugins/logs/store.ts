/** The contract between the log plugin and a database, and what both stores share: columns, filters, cursors. */
import type { BatchStore } from '../../core/index.ts'
import { searchText, type LogEntry, type LogSummary } from './entry.ts'
import type { RetentionPolicy } from './options.ts'

export interface LogQuery {
  /** A principal's id or name. */
  key?: string
  /** The requested model or alias, the upstream model, or `provider/model`. */
  model?: string
  provider?: string
  /** One status, `error` (≥ 400), `ok` (< 400), `4xx` or `5xx`. */
  status?: number | 'error' | 'ok' | '4xx' | '5xx'
  /** Epoch ms, inclusive. */
  from?: number
  /** Epoch ms, exclusive. */
  to?: number
  /** Free text: every word must occur in the entry's content, error, model or key name. */
  q?: string
  limit: number
  /** Where the previous page ended (its `nextCursor`). */
  cursor?: string
}

export interface LogPage {
  data: LogSummary[]
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string
}

export interface PruneResult {
  byAge: number
  bySize: number
}

export interface LogStore extends BatchStore<LogEntry> {
  readonly kind: 'sqlite' | 'postgres'
  list(query: LogQuery): Promise<LogPage>
  get(id: string): Promise<LogEntry | undefined>
  /** Deletes entries older than `maxAgeDays`, then the oldest beyond `maxRows` / `maxBytes`. */
  prune(policy: RetentionPolicy, now: number): Promise<PruneResult>
  count(): Promise<number>
}

/** One entry as a row: the columns filters use, the entry itself as JSON, its size, and its searchable words. */
export interface EntryRow {
  id: string
  time: number
  principal_id: string | null
  principal_name: string | null
  requested_model: string
  provider: string | null
  upstream_model: string | null
  status: number
  outcome: string
  has_content: number
  size: number
  entry: string
  search: string
}

const withoutNul = (_key: string, value: unknown) => (typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '') : value)

/** `noNul`: Postgres text and JSONB cannot hold U+0000, so it is left out of every string. */
export function rowOf(entry: LogEntry, noNul = false): EntryRow {
  const json = noNul ? JSON.stringify(entry, withoutNul) : JSON.stringify(entry)
  const search = noNul ? searchText(entry).replaceAll('\u0000', '') : searchText(entry)
  return {
    id: entry.id,
    time: Math.round(entry.startedAt),
    principal_id: entry.principalId ?? null,
    principal_name: entry.principalName ?? null,
    requested_model: entry.requestedModel ?? '',
    provider: entry.provider ?? null,
    upstream_model: entry.upstreamModel ?? null,
    status: Math.round(entry.status),
    outcome: entry.outcome ?? 'unknown',
    has_content: entry.content ? 1 : 0,
    // What a row costs, near enough: the JSON plus the search text (indexed once more) plus fixed columns.
    size: json.length + search.length + 200,
    entry: json,
    search,
  }
}

export function summaryOf(entry: LogEntry): LogSummary {
  const { content, ...rest } = entry
  return { ...rest, hasContent: content !== undefined }
}

/** An opaque cursor: the (time, id) of the last entry of a page (pages go from newest to oldest). */
export function encodeCursor(entry: { startedAt: number; id: string }): string {
  return Buffer.from(JSON.stringify([entry.startedAt, entry.id])).toString('base64url')
}

export function decodeCursor(cursor: string): { time: number; id: string } | undefined {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (typeof time === 'number' && Number.isFinite(time) && typeof id === 'string' && id.length <= 200) return { time, id }
  } catch {}
  return undefined
}

/** Words of a free-text query (letters and digits), at most 16 of them. */
export function queryWords(q: string): string[] {
  return (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 16)
}

/** The SQL condition for a status filter (no user text reaches the SQL: a number is bound, the rest is fixed). */
export function statusCondition(status: NonNullable<LogQuery['status']>, placeholder: string): { sql: string; bind?: number } {
  if (typeof status === 'number') return { sql: `status = ${placeholder}`, bind: status }
  switch (status) {
    case 'error': return { sql: `(status >= 400 OR outcome <> 'ok')` }
    case 'ok': return { sql: `(status < 400 AND outcome = 'ok')` }
    case '4xx': return { sql: `(status >= 400 AND status < 500)` }
    case '5xx': return { sql: `status >= 500` }
  }
}

/** Rows to remove so `total` fits `max`. */
export const excess = (total: number, max: number | undefined) => (max === undefined ? 0 : Math.max(0, total - max))

export const DAY_MS = 86_400_000
