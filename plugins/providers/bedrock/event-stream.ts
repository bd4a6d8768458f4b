/**
 * ConverseStream answers in AWS's binary event-stream framing (`application/vnd.amazon.eventstream`): each
 * message is a length-prefixed frame with typed headers, a JSON payload and two CRC32 checksums. The frames are
 * decoded with Smithy's EventStreamCodec (which checks the CRCs) and re-framed as SSE text, one event per message,
 * named after its `:event-type` (or `:exception-type`), so the rest of the gateway reads them like any stream.
 */
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec'
import { fromUtf8, toUtf8 } from '@smithy/util-utf8'
import { GatewayError } from '../../../core/index.ts'

export const EVENT_STREAM_TYPE = 'application/vnd.amazon.eventstream'

const codec = new EventStreamCodec(toUtf8, fromUtf8)
const encoder = new TextEncoder()

function header(message: Message, name: string): string | undefined {
  const value = message.headers[name]?.value
  return typeof value === 'string' ? value : undefined
}

/** One decoded message as SSE text. */
function sseOf(message: Message): string {
  const kind = header(message, ':message-type') ?? 'event'
  let name: string
  let data: string
  if (kind === 'error') {
    // A protocol-level error carries its code and text in headers, not in the payload.
    name = 'internalServerException'
    data = JSON.stringify({ message: header(message, ':error-message') ?? 'event stream error', __type: header(message, ':error-code') })
  } else {
    name = (kind === 'exception' ? header(message, ':exception-type') : header(message, ':event-type')) ?? 'unknown'
    data = toUtf8(message.body) || '{}'
  }
  return `event: ${name}\ndata: ${data.replace(/\r?\n/g, '\ndata: ')}\n\n`
}

function corrupt(cause: unknown): GatewayError {
  return new GatewayError(502, 'the upstream sent a corrupt event stream', { type: 'api_error', code: 'invalid_upstream_response', upstream: true, cause })
}

/**
 * Turns a binary event stream into SSE bytes, a chunk of SSE per upstream chunk that completed any frames.
 * Frames may be split across chunks, or several may share one; partial frames wait for the rest.
 */
export async function* sseFromEventStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array = new Uint8Array(0)
  for await (const chunk of body) {
    let buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk
    let text = ''
    while (buffer.length >= 4) {
      const total = new DataView(buffer.buffer, buffer.byteOffset, 4).getUint32(0, false)
      if (total < 16) throw corrupt(new Error(`frame length ${total}`))
      if (buffer.length < total) break
      let message: Message
      try {
        message = codec.decode(buffer.subarray(0, total))
      } catch (error) {
        throw corrupt(error)
      }
      text += sseOf(message)
      buffer = buffer.subarray(total)
    }
    pending = buffer
    if (text) yield encoder.encode(text)
  }
}
