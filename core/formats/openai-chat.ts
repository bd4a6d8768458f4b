/** OpenAI Chat Completions: the parts the passthrough path needs (usage, errors, usage-chunk detection). */
import type { SSEEvent, Usage } from '../types.ts'
import type { ErrorInfo, StreamUsageReader } from './types.ts'

export function openaiErrorBody(info: ErrorInfo) {
  return { error: { message: info.message, type: info.type, param: info.param ?? null, code: info.code ?? null } }
}

/** Reads an OpenAI error body (`{ error: { message, type, code } }`) or falls back to the status. */
export function openaiErrorInfo(status: number, body: unknown): ErrorInfo {
  const error = (body as any)?.error
  const message = typeof error?.message === 'string' ? error.message
    : typeof error === 'string' ? error
    : `upstream returned ${status}`
  return { status, message, type: typeof error?.type === 'string' ? error.type : typeForStatus(status), code: error?.code ?? null, param: error?.param ?? null }
}

export function typeForStatus(status: number): string {
  if (status === 400 || status === 404 || status === 413 || status === 422) return 'invalid_request_error'
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 429) return 'rate_limit_error'
  if (status === 504) return 'timeout_error'
  return 'api_error'
}

/** Copies an OpenAI `usage` object into the running counters. */
export function applyOpenAIUsage(raw: any, usage: Usage): boolean {
  if (!raw || typeof raw !== 'object') return false
  usage.inputTokens = raw.prompt_tokens ?? 0
  usage.outputTokens = raw.completion_tokens ?? 0
  usage.cachedTokens = raw.prompt_tokens_details?.cached_tokens ?? 0
  usage.reasoningTokens = raw.completion_tokens_details?.reasoning_tokens ?? 0
  usage.estimated = false
  return true
}

export function openaiUsageFromBody(body: unknown, usage: Usage): boolean {
  return applyOpenAIUsage((body as any)?.usage, usage)
}

// Chunks carry `"usage":null` until the last one; only parse the events that hold a usage object.
const USAGE_OBJECT = /"usage"\s*:\s*\{/

export const openaiStreamUsage: StreamUsageReader = (event: SSEEvent, usage: Usage) => {
  if (!USAGE_OBJECT.test(event.data)) return
  applyOpenAIUsage(event.json?.usage, usage)
}

/** The usage-only chunk the gateway asked for on the client's behalf: no choices, a usage object. */
export function isUsageOnlyChunk(event: SSEEvent): boolean {
  if (!USAGE_OBJECT.test(event.data)) return false
  const json = event.json
  return !!json && Array.isArray(json.choices) && json.choices.length === 0
}
