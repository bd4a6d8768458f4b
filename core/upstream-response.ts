/**
 * The response object `call` hooks see. It keeps the body's text as received so an untouched passthrough is
 * written without re-serialising, and gives that text up the moment a plugin reads or replaces the body: a hook
 * that edits `body` in place, assigns it, or spreads the response into a new object always has its edit written.
 */
import { PEEK_BODY } from './view.ts'
import type { ProviderResponse, ResponseView, StreamDelta, WireFormat } from './types.ts'

export class UpstreamResponse implements ProviderResponse {
  status: number
  format: WireFormat
  stream?: AsyncIterable<Uint8Array>
  output?: ResponseView
  deltas?: AsyncIterable<StreamDelta>
  #headers: Headers | (() => Headers)
  #body: unknown
  #text: string | undefined
  #touched = false

  constructor(fields: Omit<ProviderResponse, 'headers'> & { headers: Headers | (() => Headers) }) {
    this.status = fields.status
    this.format = fields.format
    this.#headers = fields.headers
    this.#body = fields.body
    this.#text = fields.text
    if (fields.stream) this.stream = fields.stream
    if (fields.output) this.output = fields.output
    if (fields.deltas) this.deltas = fields.deltas
  }

  /** Built when first read (a web Headers costs microseconds per field on Node 20; the success path never reads it). */
  get headers(): Headers {
    if (typeof this.#headers === 'function') this.#headers = this.#headers()
    return this.#headers
  }

  set headers(value: Headers) {
    this.#headers = value
  }

  get body(): unknown {
    this.#touched = true
    return this.#body
  }

  set body(value: unknown) {
    this.#touched = true
    this.#body = value
  }

  /** The body as received, while no plugin has read or replaced it. */
  get text(): string | undefined {
    return this.#touched ? undefined : this.#text
  }

  [PEEK_BODY](): unknown {
    return this.#body
  }
}

/** Any provider's answer as an UpstreamResponse (its own fields kept; a plain object's `text` included). */
export function asUpstreamResponse(response: ProviderResponse): UpstreamResponse {
  return response instanceof UpstreamResponse ? response : new UpstreamResponse(response)
}
