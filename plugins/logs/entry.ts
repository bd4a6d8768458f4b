/** The shape of one request log entry: what the record says, the attempts, and (when captured) the content. */
import type { RequestRecord } from '../../core/index.ts'

/** One upstream attempt, as the `call` chain made it (retries and fallbacks each add one). */
export interface AttemptEntry {
  number: number
  provider: string
  model: string
  /** HTTP status the attempt ended with (the upstream's, or the gateway's for a timeout or a refused connection). */
  status: number
  /** `ok`, or what failed: `status`, `timeout`, `connection`, `circuit_open`, `aborted`, `error`. */
  outcome: string
  error?: string
  /** Ms after the request started that the attempt began. */
  offsetMs: number
  /** Ms until the attempt's response headers (or its failure). */
  durationMs: number
}

export interface MessageEntry {
  role: string
  text?: string
  toolCalls?: Array<{ id: string; name: string; arguments: string }>
  toolResults?: Array<{ toolCallId: string; name?: string; text: string; isError?: boolean }>
  /** Images the message carried (their data is never logged). */
  images?: number
}

export interface RequestContent {
  system?: string[]
  messages: MessageEntry[]
  /** Messages left out at the front to keep within the size cap. */
  omittedMessages?: number
  tools?: string[]
  params?: Record<string, unknown>
  /** Embeddings: the input texts. */
  input?: string[]
}

export interface ResponseContent {
  text: string
  reasoning?: string
  toolCalls: Array<{ id: string; name: string; arguments: string }>
  finishReason?: string
}

/** The record's fields (copied, the error message redacted), then what only the log keeps. */
export interface LogEntry extends RequestRecord {
  attemptList: AttemptEntry[]
  /** Targets skipped because their circuit was open (the router says which). */
  skipped?: string[]
  /** W3C trace id (32 hex digits) when the request is part of a trace. */
  traceId?: string
  /** Present only when content capture was on for this request. */
  content?: { request?: RequestContent; response?: ResponseContent; truncated?: boolean }
}

/** The list view of an entry: everything but the content. */
export type LogSummary = Omit<LogEntry, 'content'> & { hasContent: boolean }

export function entryOf(record: RequestRecord, extra: Pick<LogEntry, 'attemptList' | 'skipped' | 'traceId' | 'content'>, redact: (text: string) => string): LogEntry {
  const entry: LogEntry = {
    id: record.id,
    clientRequestId: record.clientRequestId,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    api: record.api,
    stream: record.stream,
    requestedModel: record.requestedModel,
    provider: record.provider,
    upstreamModel: record.upstreamModel,
    principalId: record.principalId,
    principalName: record.principalName,
    tags: record.tags,
    status: record.status,
    outcome: record.outcome,
    errorMessage: record.errorMessage === undefined ? undefined : redact(record.errorMessage),
    usage: { ...record.usage },
    latencyMs: record.latencyMs,
    ttfbMs: record.ttfbMs,
    costUSD: record.costUSD,
    cached: record.cached,
    savedUSD: record.savedUSD,
    attempts: record.attempts,
    ...extra,
  }
  for (const key of Object.keys(entry) as Array<keyof LogEntry>) if (entry[key] === undefined) delete entry[key]
  return entry
}

/** The words free-text search looks in: content, error, models and key names. */
export function searchText(entry: LogEntry): string {
  const parts: string[] = [entry.requestedModel, entry.upstreamModel ?? '', entry.provider ?? '', entry.principalName ?? '', entry.errorMessage ?? '']
  const request = entry.content?.request
  if (request) {
    parts.push(...(request.system ?? []), ...(request.input ?? []))
    for (const message of request.messages) {
      if (message.text) parts.push(message.text)
      for (const call of message.toolCalls ?? []) parts.push(call.name, call.arguments)
      for (const result of message.toolResults ?? []) parts.push(result.text)
    }
  }
  const response = entry.content?.response
  if (response) {
    parts.push(response.text)
    for (const call of response.toolCalls) parts.push(call.name, call.arguments)
  }
  return parts.filter(Boolean).join('\n')
}
