/**
 * The wire-format contract between the pipeline and the codecs. Codecs are pure functions (no I/O):
 * the pipeline hands them parsed bodies and SSE events and writes out whatever they return.
 */
import type { SSEEvent, Usage } from '../types.ts'

/** A wire format a client or a provider speaks. */
export type WireFormat =
  | 'openai-chat'
  | 'anthropic-messages'
  | 'gemini'
  | 'openai-embeddings'
  | 'gemini-embeddings'

/** One SSE frame to write out. `data` is written as is (already JSON text, or `[DONE]`). */
export interface SSEFrame {
  event?: string
  data: string
}

/** A normalised error, before it is put into a caller's error shape. */
export interface ErrorInfo {
  status: number
  message: string
  /** OpenAI-style type: invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, api_error, timeout_error, ... */
  type: string
  code?: string | null
  param?: string | null
}

/** Reads usage from a stream's events as they pass, updating the running counters in place. */
export type StreamUsageReader = (event: SSEEvent, usage: Usage) => void

/**
 * Translates one upstream stream into the client's format, event by event. Stateful: one per stream.
 * `push` returns the frames to write for one upstream event (possibly none); `end` returns the closing frames
 * (e.g. `[DONE]`, `message_stop`) once the upstream ended; `error` returns the caller-format error frames
 * to end a stream that died midway.
 */
export interface StreamTranslator {
  push(event: SSEEvent): SSEFrame[]
  end(): SSEFrame[]
  error(info: ErrorInfo): SSEFrame[]
  /**
   * True once the upstream said its stream is complete (OpenAI `[DONE]` or a finish reason, Anthropic
   * `message_stop`, Gemini a `finishReason`). When the upstream body ends while this is still false the
   * stream died midway: call `error()` rather than `end()`.
   */
  readonly upstreamDone?: boolean
}

/** What a response translation needs beyond the body: the names the client should see. */
export interface TranslateInfo {
  /** The model name to show the client. */
  model: string
  /** An id for the response (the gateway's request id); prefixed per format (`chatcmpl-`, `msg_`). */
  id: string
  /** Unix seconds for OpenAI's `created`; defaults to now. */
  created?: number
  /**
   * The client's original request body. Only embeddings use it: OpenAI's `encoding_format: 'base64'`
   * (the openai SDK's default) changes the response shape.
   */
  request?: Record<string, unknown>
}
