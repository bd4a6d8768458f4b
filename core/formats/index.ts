/**
 * The codec entry points the pipeline calls. Same format in and out never reaches a translator: the
 * pipeline passes bytes through and only reads usage. Cross-format calls go through the canonical shape.
 */
import { GatewayError } from '../errors.ts'
import type { Usage } from '../types.ts'
import type { ErrorInfo, StreamTranslator, StreamUsageReader, WireFormat } from './types.ts'
import { openaiErrorBody, openaiErrorInfo, openaiStreamUsage, openaiUsageFromBody } from './openai-chat.ts'

export type { ErrorInfo, SSEFrame, StreamTranslator, StreamUsageReader, WireFormat } from './types.ts'
export { isUsageOnlyChunk, typeForStatus } from './openai-chat.ts'

/** The error body a client of `format` expects. */
export function errorBody(format: WireFormat, info: ErrorInfo): unknown {
  switch (format) {
    default:
      return openaiErrorBody(info)
  }
}

/** Reads a provider's error body into an ErrorInfo (message and type kept, status as given). */
export function upstreamErrorInfo(format: WireFormat, status: number, body: unknown): ErrorInfo {
  switch (format) {
    default:
      return openaiErrorInfo(status, body)
  }
}

/** Fills `usage` from a non-stream response body; false when the body carries none. */
export function usageFromBody(format: WireFormat, body: unknown, usage: Usage): boolean {
  switch (format) {
    case 'openai-chat':
    case 'openai-embeddings':
      return openaiUsageFromBody(body, usage)
    default:
      return false
  }
}

const noUsage: StreamUsageReader = () => {}

export function streamUsageReader(format: WireFormat): StreamUsageReader {
  switch (format) {
    case 'openai-chat':
      return openaiStreamUsage
    default:
      return noUsage
  }
}

function unsupported(from: WireFormat, to: WireFormat): never {
  throw new GatewayError(400, `cannot translate ${from} to ${to}`, { type: 'invalid_request_error', code: 'unsupported_translation' })
}

/** Translates a request body from the client's format to the provider's. */
export function translateRequest(body: Record<string, unknown>, from: WireFormat, to: WireFormat): Record<string, unknown> {
  if (from === to) return body
  return unsupported(from, to)
}

/** Translates a non-stream response body from the provider's format to the client's. */
export function translateResponse(body: unknown, from: WireFormat, to: WireFormat, _info: { model: string; id: string }): unknown {
  if (from === to) return body
  return unsupported(from, to)
}

/** A stateful translator from the provider's stream events to the client's. */
export function createStreamTranslator(from: WireFormat, to: WireFormat, _info: { model: string; id: string }): StreamTranslator {
  return unsupported(from, to)
}
