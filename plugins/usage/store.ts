/** The contract between the recorder and a database, and the row shape both stores share. */
import type { RequestRecord } from '../../core/index.ts'

export type GroupBy = 'key' | 'model' | 'provider' | 'day' | 'hour' | 'minute'

/** Groupings that are time buckets: their rows come in time order. */
export const isTimeGroup = (groupBy: GroupBy) => groupBy === 'day' || groupBy === 'hour' || groupBy === 'minute'

export interface UsageQuery {
  /** Epoch ms, inclusive. */
  from: number
  /** Epoch ms, exclusive. */
  to: number
  groupBy: GroupBy
}

export interface UsageRow {
  group: string
  requests: number
  inputTokens: number
  outputTokens: number
  costUSD: number
  errors: number
}

export interface UsageStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Connects and creates or migrates the schema. Safe to call again after a failure. */
  open(): Promise<void>
  /**
   * Writes records in one transaction. Rows are keyed by `record.id`, the gateway's own id (never the client's), so
   * the only conflict is a record written twice (a spill replayed again): it is skipped. Returns rows inserted.
   */
  insert(records: RequestRecord[]): Promise<number>
  query(query: UsageQuery): Promise<UsageRow[]>
  /** Sum of recorded cost for one principal since `sinceMs`. */
  spentUSD(principalId: string, sinceMs: number): Promise<number>
  count(): Promise<number>
  close(): Promise<void>
}

/** Column order for inserts; both stores bind values in this order. */
export const COLUMNS = [
  'id', 'time', 'ended_at', 'principal_id', 'principal_name', 'requested_model', 'provider', 'upstream_model',
  'api', 'stream', 'status', 'outcome', 'error_message', 'input_tokens', 'output_tokens', 'cached_tokens',
  'reasoning_tokens', 'estimated', 'cost_usd', 'latency_ms', 'ttfb_ms', 'attempts', 'tags', 'client_request_id',
  'cached', 'saved_usd',
] as const

/**
 * Rows written before the gateway had ids of its own were keyed by the client's `x-request-id` when it sent one
 * (the gateway's ids are `req_` + 32 hex digits). A migration copies those ids into `client_request_id`.
 */
export const LEGACY_CLIENT_ID_ROWS = `NOT (substr(id, 1, 4) = 'req_' AND length(id) = 36)`

const MAX_ERROR_MESSAGE = 300

const int = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : 0)

/** One record as insert values, in COLUMNS order. Booleans become 0/1 so both stores take the same row. */
export function recordValues(record: RequestRecord): unknown[] {
  const usage = record.usage ?? ({} as RequestRecord['usage'])
  return [
    String(record.id),
    int(record.startedAt),
    int(record.endedAt),
    record.principalId ?? null,
    record.principalName ?? null,
    record.requestedModel ?? '',
    record.provider ?? null,
    record.upstreamModel ?? null,
    record.api,
    record.stream ? 1 : 0,
    int(record.status),
    record.outcome ?? 'unknown',
    record.errorMessage ? record.errorMessage.slice(0, MAX_ERROR_MESSAGE) : null,
    int(usage.inputTokens),
    int(usage.outputTokens),
    int(usage.cachedTokens),
    int(usage.reasoningTokens),
    usage.estimated ? 1 : 0,
    typeof record.costUSD === 'number' && Number.isFinite(record.costUSD) ? record.costUSD : 0,
    int(record.latencyMs),
    record.ttfbMs === undefined ? null : int(record.ttfbMs),
    int(record.attempts),
    record.tags && Object.keys(record.tags).length > 0 ? JSON.stringify(record.tags) : null,
    typeof record.clientRequestId === 'string' ? record.clientRequestId : null,
    record.cached ? 1 : 0,
    typeof record.savedUSD === 'number' && Number.isFinite(record.savedUSD) ? record.savedUSD : 0,
  ]
}

/** SQL expression for each grouping; `day` is the UTC calendar day. Dialect-specific parts come from the store. */
export function groupExpression(groupBy: GroupBy, dayExpression: string): string {
  switch (groupBy) {
    case 'key': return `COALESCE(principal_id, '(none)')`
    case 'model': return `COALESCE(upstream_model, requested_model)`
    case 'provider': return `COALESCE(provider, '(none)')`
    case 'day': return dayExpression
    // Start of the UTC hour / minute as epoch ms (a 13-digit string, so text order is time order).
    case 'hour': return `CAST((time / 3600000) * 3600000 AS TEXT)`
    case 'minute': return `CAST((time / 60000) * 60000 AS TEXT)`
  }
}
