/**
 * The wire-format contract between the pipeline and the codecs. Codecs are pure functions (no I/O):
 * the pipeline hands them parsed bodies and SSE events and writes out whatever they return.
 */
import type { SSEEvent, TokenCounts } from '../types.ts'
import type { CanonicalRequest, CanonicalResponse, StreamDecoder, StreamEncoder } from './canonical.ts'

/** A wire format a client or a provider speaks. */
export type WireFormat =
  | 'openai-chat'
  | 'openai-responses'
  | 'anthropic-messages'
  | 'gemini'
  | 'openai-embeddings'
  | 'gemini-embeddings'
  /** Gemini's single `models/{model}:embedContent` (`gemini-embeddings` is `:batchEmbedContents`). */
  | 'gemini-embed-content'
  /** AWS Bedrock's Converse API (provider side only: no inbound route speaks it). */
  | 'bedrock-converse'

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
   * The client's original request body. Embeddings use it (OpenAI's `encoding_format: 'base64'`, the openai
   * SDK's default, changes the response shape), and OpenAI Responses echoes the request's settings back.
   */
  request?: Record<string, unknown>
}

/**
 * Everything the gateway knows about one wire format, in one object. The pipeline never switches on a format:
 * it looks the codec up in the table (formats/index.ts). Adding a format is one file exporting a codec and one
 * table entry. Chat formats translate among themselves through the canonical shape; a format that leaves out
 * the decode or encode half can only be on one side (e.g. a provider-only format has no `decodeRequest`).
 */
export interface WireCodec {
  readonly format: WireFormat
  /** Requests translate only between formats of one kind. */
  readonly kind: 'chat' | 'embeddings'

  /** The error body a client of this format expects. */
  errorBody(info: ErrorInfo): unknown
  /** Reads an error body of this format (message and type kept, status as given). */
  errorInfo(status: number, body: unknown): ErrorInfo
  /** The frames that end a stream of this format with an error. */
  streamErrorFrames(info: ErrorInfo): SSEFrame[]

  /** The one usage copier of this format: its usage object read into canonical counts. */
  readUsage(raw: unknown): Partial<TokenCounts> | undefined
  /** The usage a whole (non-stream) response body carries. */
  bodyUsage(body: unknown): Partial<TokenCounts> | undefined
  /** The usage a stream event carries; cheap string checks before any JSON parse. */
  streamUsage(event: SSEEvent): Partial<TokenCounts> | undefined
  /** Whether a stream event says the stream is complete (`[DONE]`, message_stop, ...); no JSON parse. */
  streamDone(event: SSEEvent): boolean

  /** Puts the upstream model name where this format carries it (the body, each item, or nowhere: the URL). */
  setModel(body: Record<string, unknown>, model: string): void

  decodeRequest?(body: Record<string, unknown>): CanonicalRequest
  encodeRequest?(request: CanonicalRequest): Record<string, unknown>
  decodeResponse?(body: unknown, info: TranslateInfo): CanonicalResponse
  encodeResponse?(response: CanonicalResponse, info: TranslateInfo): unknown
  streamDecoder?(info: TranslateInfo): StreamDecoder
  streamEncoder?(info: TranslateInfo): StreamEncoder

  /** Translations that do not pass through the canonical chat shape (embeddings): body in another format → this one. */
  requestFrom?: Partial<Record<WireFormat, (body: Record<string, unknown>) => Record<string, unknown>>>
  responseFrom?: Partial<Record<WireFormat, (body: unknown, info: TranslateInfo) => unknown>>
}
