/**
 * The codec entry points the pipeline calls. Same format in and out never reaches a translator: the
 * pipeline passes bytes through and only reads usage. Cross-format calls go through the canonical shape
 * (canonical.ts): the source codec decodes, the target codec encodes.
 */
import { GatewayError } from '../errors.ts'
import type { SSEEvent, Usage } from '../types.ts'
import type { ErrorInfo, SSEFrame, StreamTranslator, StreamUsageReader, TranslateInfo, WireFormat } from './types.ts'
import type { CanonicalRequest, CanonicalResponse, StreamDecoder, StreamEncoder } from './canonical.ts'
import { isRecord } from './canonical.ts'
import {
  canonicalToOpenAIChatRequest, canonicalToOpenAIChatResponse, createOpenAIChatStreamDecoder,
  createOpenAIChatStreamEncoder, openaiChatRequestToCanonical, openaiChatResponseToCanonical, openaiErrorBody,
  openaiErrorInfo, openaiStreamUsage, openaiUsageFromBody,
} from './openai-chat.ts'
import {
  anthropicErrorBody, anthropicErrorInfo, anthropicRequestToCanonical, anthropicResponseToCanonical,
  anthropicStreamUsage, anthropicUsageFromBody, canonicalToAnthropicRequest, canonicalToAnthropicResponse,
  createAnthropicStreamDecoder, createAnthropicStreamEncoder,
} from './anthropic-messages.ts'
import {
  canonicalToGeminiRequest, createGeminiStreamDecoder, geminiErrorBody, geminiErrorInfo, geminiResponseToCanonical,
  geminiStreamUsage, geminiUsageFromBody,
} from './gemini.ts'
import { geminiEmbeddingsToOpenAI, geminiModelName, openaiEmbeddingsToGemini } from './embeddings.ts'

export type { ErrorInfo, SSEFrame, StreamTranslator, StreamUsageReader, TranslateInfo, WireFormat } from './types.ts'
export type * from './canonical.ts'
export { isUsageOnlyChunk, typeForStatus } from './openai-chat.ts'
export { ANTHROPIC_DEFAULT_MAX_TOKENS, anthropicErrorType } from './anthropic-messages.ts'

type ErrorFamily = 'openai' | 'anthropic' | 'gemini'

function errorFamily(format: WireFormat): ErrorFamily {
  if (format === 'anthropic-messages') return 'anthropic'
  if (format === 'gemini' || format === 'gemini-embeddings') return 'gemini'
  return 'openai'
}

const EMBEDDING_FORMATS: ReadonlySet<WireFormat> = new Set(['openai-embeddings', 'gemini-embeddings'])

/**
 * The format to send a provider: the client's own when the provider speaks it, else the provider's first
 * format of the same kind (an embeddings request needs an embeddings format, a chat request a chat one),
 * else its first format (the translation then refuses the pair with a 400).
 */
export function providerFormatFor(client: WireFormat, formats: readonly WireFormat[]): WireFormat {
  if (formats.includes(client)) return client
  const embeddings = EMBEDDING_FORMATS.has(client)
  return formats.find((format) => EMBEDDING_FORMATS.has(format) === embeddings) ?? formats[0]!
}

/** The error body a client of `format` expects. */
export function errorBody(format: WireFormat, info: ErrorInfo): unknown {
  switch (errorFamily(format)) {
    case 'anthropic': return anthropicErrorBody(info)
    case 'gemini': return geminiErrorBody(info)
    default: return openaiErrorBody(info)
  }
}

/** Reads a provider's error body into an ErrorInfo (message and type kept, status as given). */
export function upstreamErrorInfo(format: WireFormat, status: number, body: unknown): ErrorInfo {
  switch (errorFamily(format)) {
    case 'anthropic': return anthropicErrorInfo(status, body)
    case 'gemini': return geminiErrorInfo(status, body)
    default: return openaiErrorInfo(status, body)
  }
}

/** The SSE frames that end a stream with an error, in the shape a client of `format` expects. */
export function streamErrorFrames(format: WireFormat, info: ErrorInfo): SSEFrame[] {
  switch (errorFamily(format)) {
    case 'anthropic': return [{ event: 'error', data: JSON.stringify(anthropicErrorBody(info)) }]
    case 'gemini': return [{ data: JSON.stringify(geminiErrorBody(info)) }]
    default: return [{ data: JSON.stringify(openaiErrorBody(info)) }, { data: '[DONE]' }]
  }
}

/** Fills `usage` from a non-stream response body; false when the body carries none. */
export function usageFromBody(format: WireFormat, body: unknown, usage: Usage): boolean {
  switch (format) {
    case 'openai-chat':
    case 'openai-embeddings':
      return openaiUsageFromBody(body, usage)
    case 'anthropic-messages':
      return anthropicUsageFromBody(body, usage)
    case 'gemini':
      return geminiUsageFromBody(body, usage)
    default:
      return false // batchEmbedContents reports no usage
  }
}

const noUsage: StreamUsageReader = () => {}

/** Reads usage from a provider's stream events as they pass (updating the counters in place). */
export function streamUsageReader(format: WireFormat): StreamUsageReader {
  switch (format) {
    case 'openai-chat': return openaiStreamUsage
    case 'anthropic-messages': return anthropicStreamUsage
    case 'gemini': return geminiStreamUsage
    default: return noUsage
  }
}

/**
 * Puts the upstream model name where `format` carries it: `model` on OpenAI and Anthropic bodies, each
 * item's `models/...` name on batchEmbedContents, nowhere on generateContent (it is in the URL).
 */
export function setUpstreamModel(body: Record<string, unknown>, format: WireFormat, model: string): Record<string, unknown> {
  if (format === 'gemini') return body
  if (format === 'gemini-embeddings') {
    if (Array.isArray(body.requests)) for (const item of body.requests) if (isRecord(item)) item.model = geminiModelName(model)
    return body
  }
  body.model = model
  return body
}

function unsupported(from: WireFormat, to: WireFormat): never {
  throw new GatewayError(400, `cannot translate ${from} to ${to}`, { type: 'invalid_request_error', code: 'unsupported_translation' })
}

function decodeRequest(body: Record<string, unknown>, format: WireFormat): CanonicalRequest | undefined {
  if (format === 'openai-chat') return openaiChatRequestToCanonical(body)
  if (format === 'anthropic-messages') return anthropicRequestToCanonical(body)
  return undefined
}

function encodeRequest(request: CanonicalRequest, format: WireFormat): Record<string, unknown> | undefined {
  if (format === 'openai-chat') return canonicalToOpenAIChatRequest(request)
  if (format === 'anthropic-messages') return canonicalToAnthropicRequest(request)
  if (format === 'gemini') return canonicalToGeminiRequest(request)
  return undefined
}

/** Translates a request body from the client's format to the provider's. */
export function translateRequest(body: Record<string, unknown>, from: WireFormat, to: WireFormat): Record<string, unknown> {
  if (from === to) return body
  if (!isRecord(body)) throw new GatewayError(400, 'request body must be a JSON object', { type: 'invalid_request_error' })
  if (from === 'openai-embeddings' && to === 'gemini-embeddings') return openaiEmbeddingsToGemini(body)
  const canonical = decodeRequest(body, from)
  const encoded = canonical && encodeRequest(canonical, to)
  return encoded ?? unsupported(from, to)
}

function decodeResponse(body: unknown, format: WireFormat, info: TranslateInfo): CanonicalResponse | undefined {
  if (format === 'openai-chat') return openaiChatResponseToCanonical(body)
  if (format === 'anthropic-messages') return anthropicResponseToCanonical(body)
  if (format === 'gemini') return geminiResponseToCanonical(body, info.id)
  return undefined
}

function encodeResponse(response: CanonicalResponse, format: WireFormat, info: TranslateInfo): unknown {
  if (format === 'openai-chat') return canonicalToOpenAIChatResponse(response, info)
  if (format === 'anthropic-messages') return canonicalToAnthropicResponse(response, info)
  return undefined
}

function upstreamShapeError(from: WireFormat, cause: unknown): GatewayError {
  return new GatewayError(502, `upstream returned a ${from} response the gateway could not read`, { type: 'api_error', upstream: true, cause })
}

/** Translates a non-stream response body from the provider's format to the client's. */
export function translateResponse(body: unknown, from: WireFormat, to: WireFormat, info: TranslateInfo): unknown {
  if (from === to) return body
  if (from === 'gemini-embeddings' && to === 'openai-embeddings') {
    try { return geminiEmbeddingsToOpenAI(body, info) } catch (error) { throw upstreamShapeError(from, error) }
  }
  const canEncode = to === 'openai-chat' || to === 'anthropic-messages'
  if (!canEncode || (from !== 'openai-chat' && from !== 'anthropic-messages' && from !== 'gemini')) unsupported(from, to)
  let canonical: CanonicalResponse
  try {
    canonical = decodeResponse(body, from, info)!
    return encodeResponse(canonical, to, info)
  } catch (error) {
    throw upstreamShapeError(from, error)
  }
}

function streamDecoder(format: WireFormat, info: TranslateInfo): StreamDecoder | undefined {
  if (format === 'openai-chat') return createOpenAIChatStreamDecoder(info)
  if (format === 'anthropic-messages') return createAnthropicStreamDecoder(info)
  if (format === 'gemini') return createGeminiStreamDecoder(info)
  return undefined
}

function streamEncoder(format: WireFormat, info: TranslateInfo): StreamEncoder | undefined {
  if (format === 'openai-chat') return createOpenAIChatStreamEncoder(info)
  if (format === 'anthropic-messages') return createAnthropicStreamEncoder(info)
  return undefined
}

/** Whether a same-format event says the stream is complete; cheap string checks, no JSON parse. */
export function streamCompleted(format: WireFormat, event: SSEEvent): boolean {
  return passthroughDone(format, event)
}

function passthroughDone(format: WireFormat, event: SSEEvent): boolean {
  if (format === 'openai-chat') return event.data === '[DONE]'
  if (format === 'anthropic-messages') return event.event === 'message_stop' || event.data.includes('"type":"message_stop"')
  if (format === 'gemini') return event.data.includes('"finishReason"')
  return false
}

/** Same format in and out: events pass unchanged; the translator still knows completion and error frames. */
function passthroughTranslator(format: WireFormat): StreamTranslator {
  let done = false
  let closed = false
  return {
    get upstreamDone() { return done },
    push(event) {
      if (closed) return []
      if (passthroughDone(format, event)) done = true
      return [{ ...(event.event ? { event: event.event } : {}), data: event.data }]
    },
    end() { closed = true; return [] },
    error(info) {
      if (closed) return []
      closed = true
      return streamErrorFrames(format, info)
    },
  }
}

/**
 * A stateful translator from the provider's stream events to the client's. For the same format it passes
 * events through unchanged (and still reports completion and writes error frames).
 */
export function createStreamTranslator(from: WireFormat, to: WireFormat, info: TranslateInfo): StreamTranslator {
  if (from === to) return passthroughTranslator(from)
  const decode = streamDecoder(from, info)
  const encoder = streamEncoder(to, info)
  if (!decode || !encoder) return unsupported(from, to)
  let done = false
  return {
    get upstreamDone() { return done },
    push(event) {
      let events
      try {
        events = decode(event)
      } catch {
        return [] // an event that is not JSON carries nothing we can translate
      }
      const frames: SSEFrame[] = []
      for (const canonical of events) {
        if (canonical.type === 'finish' || canonical.type === 'done') done = true
        frames.push(...encoder.encode(canonical))
      }
      return frames
    },
    end: () => encoder.end(),
    error: (errorInfo) => encoder.error(errorInfo),
  }
}
