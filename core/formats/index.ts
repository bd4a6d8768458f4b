/**
 * The codec table and the entry points the pipeline calls. Every wire format is one `WireCodec` object; nothing
 * here switches on a format. Same format in and out never reaches a translator: the pipeline passes bytes through
 * and only reads usage. Cross-format calls go through the canonical shape (canonical.ts): the source codec
 * decodes, the target codec encodes.
 */
import { GatewayError } from '../errors.ts'
import type { SSEEvent, Usage } from '../types.ts'
import type { ErrorInfo, SSEFrame, StreamTranslator, TranslateInfo, WireCodec, WireFormat } from './types.ts'
import { isRecord, mergeUsage, type CanonicalStreamEvent } from './canonical.ts'
import { openaiChatCodec } from './openai-chat.ts'
import { openaiResponsesCodec } from './openai-responses.ts'
import { anthropicMessagesCodec } from './anthropic-messages.ts'
import { geminiCodec } from './gemini.ts'
import { geminiEmbedContentCodec, geminiEmbeddingsCodec, openaiEmbeddingsCodec } from './embeddings.ts'
import { bedrockConverseCodec } from './bedrock-converse.ts'

export type { ErrorInfo, SSEFrame, StreamTranslator, TranslateInfo, WireCodec, WireFormat } from './types.ts'
export type * from './canonical.ts'
export { isUsageOnlyChunk, typeForStatus } from './openai-chat.ts'
export { ANTHROPIC_DEFAULT_MAX_TOKENS, anthropicErrorType } from './anthropic-messages.ts'
export { geminiCountTokensRequest, geminiCountTokensResponse } from './gemini.ts'
export { clampOutputTokens, requestedOutputTokens } from './limits.ts'

/** Every wire format the gateway speaks, by name. */
export const CODECS: Readonly<Record<WireFormat, WireCodec>> = {
  'openai-chat': openaiChatCodec,
  'openai-responses': openaiResponsesCodec,
  'anthropic-messages': anthropicMessagesCodec,
  gemini: geminiCodec,
  'openai-embeddings': openaiEmbeddingsCodec,
  'gemini-embeddings': geminiEmbeddingsCodec,
  'gemini-embed-content': geminiEmbedContentCodec,
  'bedrock-converse': bedrockConverseCodec,
}

export function codecFor(format: WireFormat): WireCodec {
  const codec = CODECS[format]
  if (!codec) throw new GatewayError(400, `unknown wire format "${format}"`, { type: 'invalid_request_error' })
  return codec
}

/**
 * The format to send a provider: the client's own when the provider speaks it, else the provider's first
 * format of the same kind (an embeddings request needs an embeddings format, a chat request a chat one),
 * else its first format (the translation then refuses the pair with a 400).
 */
export function providerFormatFor(client: WireFormat, formats: readonly WireFormat[]): WireFormat {
  if (formats.includes(client)) return client
  const kind = codecFor(client).kind
  return formats.find((format) => CODECS[format]?.kind === kind) ?? formats[0]!
}

/** The error body a client of `format` expects. */
export function errorBody(format: WireFormat, info: ErrorInfo): unknown {
  return codecFor(format).errorBody(info)
}

/** Reads a provider's error body into an ErrorInfo (message and type kept, status as given). */
export function upstreamErrorInfo(format: WireFormat, status: number, body: unknown): ErrorInfo {
  return codecFor(format).errorInfo(status, body)
}

/** The SSE frames that end a stream with an error, in the shape a client of `format` expects. */
export function streamErrorFrames(format: WireFormat, info: ErrorInfo): SSEFrame[] {
  return codecFor(format).streamErrorFrames(info)
}

/** Copies counts the provider reported into the request's usage: they are the provider's, not estimates. */
export function applyUsage(usage: Usage, counts: Partial<Usage> | undefined): boolean {
  if (!counts) return false
  mergeUsage(usage, counts)
  usage.estimated = false
  return true
}

/** Fills `usage` from a non-stream response body; false when the body carries none. */
export function usageFromBody(format: WireFormat, body: unknown, usage: Usage): boolean {
  return applyUsage(usage, codecFor(format).bodyUsage(body))
}

/** Reads usage from a provider's stream events as they pass (updating the counters in place). */
export function streamUsageReader(format: WireFormat): (event: SSEEvent, usage: Usage) => void {
  const codec = codecFor(format)
  return (event, usage) => { applyUsage(usage, codec.streamUsage(event)) }
}

/** Puts the upstream model name where `format` carries it. */
export function setUpstreamModel(body: Record<string, unknown>, format: WireFormat, model: string): Record<string, unknown> {
  codecFor(format).setModel(body, model)
  return body
}

function unsupported(from: WireFormat, to: WireFormat): never {
  throw new GatewayError(400, `cannot translate ${from} to ${to}`, { type: 'invalid_request_error', code: 'unsupported_translation' })
}

/**
 * Translates a request body from the client's format to the provider's. `stream` overrides the body's own flag
 * (Gemini clients say it in the URL, not the body).
 */
export function translateRequest(body: Record<string, unknown>, from: WireFormat, to: WireFormat, options: { stream?: boolean } = {}): Record<string, unknown> {
  if (from === to) return body
  if (!isRecord(body)) throw new GatewayError(400, 'request body must be a JSON object', { type: 'invalid_request_error' })
  const source = codecFor(from)
  const target = codecFor(to)
  const direct = target.requestFrom?.[from]
  if (direct) return direct(body)
  if (!source.decodeRequest || !target.encodeRequest || source.kind !== target.kind) unsupported(from, to)
  const canonical = source.decodeRequest(body)
  if (options.stream !== undefined) canonical.stream = options.stream
  return target.encodeRequest(canonical)
}

function upstreamShapeError(from: WireFormat, cause: unknown): GatewayError {
  return new GatewayError(502, `upstream returned a ${from} response the gateway could not read`, { type: 'api_error', upstream: true, cause })
}

/** Translates a non-stream response body from the provider's format to the client's. */
export function translateResponse(body: unknown, from: WireFormat, to: WireFormat, info: TranslateInfo): unknown {
  if (from === to) return body
  const source = codecFor(from)
  const target = codecFor(to)
  const direct = target.responseFrom?.[from]
  if (!direct && (!source.decodeResponse || !target.encodeResponse || source.kind !== target.kind)) unsupported(from, to)
  try {
    return direct ? direct(body, info) : target.encodeResponse!(source.decodeResponse!(body, info), info)
  } catch (error) {
    throw upstreamShapeError(from, error)
  }
}

/** Whether a same-format event says the stream is complete; cheap string checks, no JSON parse. */
export function streamCompleted(format: WireFormat, event: SSEEvent): boolean {
  return codecFor(format).streamDone(event)
}

/** Same format in and out: events pass unchanged; the translator still knows completion and error frames. */
function passthroughTranslator(codec: WireCodec): StreamTranslator {
  let done = false
  let closed = false
  return {
    get upstreamDone() { return done },
    push(event) {
      if (closed) return []
      if (codec.streamDone(event)) done = true
      return [{ ...(event.event ? { event: event.event } : {}), data: event.data }]
    },
    end() { closed = true; return [] },
    error(info) {
      if (closed) return []
      closed = true
      return codec.streamErrorFrames(info)
    },
  }
}

/**
 * A stateful translator from the provider's stream events to the client's. For the same format it passes
 * events through unchanged (and still reports completion and writes error frames).
 */
export function createStreamTranslator(from: WireFormat, to: WireFormat, info: TranslateInfo): StreamTranslator {
  if (from === to) return passthroughTranslator(codecFor(from))
  const decode = codecFor(from).streamDecoder?.(info)
  const encoder = codecFor(to).streamEncoder?.(info)
  if (!decode || !encoder) return unsupported(from, to)
  let done = false
  return {
    get upstreamDone() { return done },
    push(event) {
      let events: CanonicalStreamEvent[]
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
