/**
 * Moves one upstream stream to the client: parse, read usage, translate or re-encode when needed, apply the
 * plugins' handlers, write. Pull-driven, so nothing is read from upstream faster than the client takes it;
 * memory stays flat whatever the response size.
 *
 * Two paths. Passthrough (the upstream speaks the client's format and no plugin edits deltas): each chunk that
 * holds whole events nobody changed goes out as the very bytes that arrived. Neutral (the formats differ, a
 * plugin edits deltas, or the provider streamed deltas): upstream events are decoded into deltas, edited, and
 * encoded in the client's format. Observers get deltas on either path.
 *
 * The body is neither a web ReadableStream nor a Node Readable but an object srvx pipes into the socket (see
 * `body`): on Node 20 each web stream costs a transferable wrapper and a promise per chunk (~6 % of a streamed
 * request's CPU in `npm run bench -- --profile --config minimal --stream`), a Readable a `stream.pipeline`.
 */
import type { Writable } from 'node:stream'
import { GatewayError } from './errors.ts'
import { applyUsage, codecFor, isUsageOnlyChunk } from './formats/index.ts'
import type { SSEFrame, StreamDecoder, StreamEncoder, TranslateInfo, WireCodec } from './formats/index.ts'
import { SSEParser, asEvent, eventText, sseEvent } from './sse.ts'
import { WHOLE } from './view.ts'
import { CLIENT_CLOSED, errorInfo, toGatewayError } from './respond.ts'
import type { Context } from './context.ts'
import type { ResponseHandlers } from './hook-callers.ts'
import type { ProviderResponse, SSEEvent, StreamDelta, StreamTransform, WireFormat } from './types.ts'

/** What a pump needs from its request's way out (the Exchange). */
export interface PumpOwner {
  readonly ctx: Context
  now(): number
  finish(status: number, outcome: string, errorMessage?: string): void
}

/** A body srvx pipes into the response itself (see `EventPump.body`). */
export interface PipeSource {
  pipe(dest: Writable): Writable
  abort(): void
  destroy(): void
}

/** Resolves once `dest` can take more bytes, or is gone. */
function drained(dest: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      dest.off('drain', done)
      dest.off('close', done)
      resolve()
    }
    dest.on('drain', done)
    dest.on('close', done)
  })
}

export class EventPump {
  readonly #owner: PumpOwner
  readonly #ctx: Context
  readonly #raw: AsyncIterator<Uint8Array> | undefined
  readonly #source: AsyncIterator<StreamDelta> | undefined
  readonly #parser = new SSEParser()
  readonly #decoder = new TextDecoder()
  readonly #upstreamCodec: WireCodec
  readonly #clientCodec: WireCodec
  /** Upstream events → deltas: on the neutral path, or for observers. */
  readonly #decode: StreamDecoder | undefined
  /** Deltas → client frames: only on the neutral path. */
  readonly #encoder: StreamEncoder | undefined
  readonly #transforms: StreamTransform[]
  readonly #handlers: ResponseHandlers
  readonly #hideUsage: boolean
  readonly #queue: Uint8Array[] = []
  #completed = false
  /** Set when an event of the current chunk was dropped or replaced, so the chunk's own bytes cannot be reused. */
  #rewritten = false
  /** Whether the last chunk ended on a line break (no event or character left half-way). */
  #cleanBoundary = true
  #ended = false
  #wrote = false
  /** A failure before any byte was produced: the Exchange answers it as an error response instead. */
  #earlyError: GatewayError | undefined
  #priming = false
  /** The deltas of a whole answer being replayed (all available now). */
  #whole: StreamDelta[] | undefined

  constructor(owner: PumpOwner, result: ProviderResponse, handlers: ResponseHandlers) {
    const ctx = owner.ctx
    this.#owner = owner
    this.#ctx = ctx
    this.#handlers = handlers
    this.#transforms = handlers.transforms
    this.#upstreamCodec = codecFor(result.format)
    this.#clientCodec = codecFor(ctx.api as WireFormat)
    const info: TranslateInfo = { model: ctx.model, id: ctx.id, request: ctx.body }
    const neutral = result.deltas !== undefined || result.format !== ctx.api || handlers.deltas.edits
    if (result.deltas) {
      this.#source = result.deltas[Symbol.asyncIterator]()
      this.#whole = (result.deltas as { [WHOLE]?: StreamDelta[] })[WHOLE]
    }
    else this.#raw = result.stream![Symbol.asyncIterator]()
    if (neutral) {
      this.#encoder = this.#clientCodec.streamEncoder?.(info)
      if (!this.#encoder) throw unsupported(result.format, ctx.api)
    }
    if (this.#raw && (neutral || handlers.deltas.active)) {
      this.#decode = this.#upstreamCodec.streamDecoder?.(info)
      if (!this.#decode) throw unsupported(result.format, ctx.api)
    }
    this.#hideUsage = ctx.api === 'openai-chat' && !ctx.clientWantsStreamUsage
  }

  /**
   * Reads until the first bytes for the client are ready (or the stream ended), so that headers set by the
   * handlers of the first events still go out. Resolves with an error when the stream failed before any byte.
   */
  async prime(): Promise<GatewayError | undefined> {
    this.#priming = true
    await this.#pull()
    this.#priming = false
    return this.#earlyError
  }

  /**
   * The response body for srvx: an object with `pipe`, which srvx hands the socket to directly. A Node Readable
   * would go through `stream.pipeline`, which makes an AbortController per response and an AbortError when it
   * ends (~5 % of a streamed request's CPU with the Readable's own machinery). `destroy`/`abort` are how srvx (or
   * a web Response made from this body) says the client is gone before the piping started or while it runs.
   */
  body(): PipeSource {
    return {
      pipe: (dest) => {
        void this.#pipeTo(dest)
        return dest
      },
      abort: () => this.#clientGone(),
      destroy: () => this.#clientGone(),
    }
  }

  /** Writes each pull's bytes in one write (the last with the end), waiting for 'drain' when the socket is full. */
  async #pipeTo(dest: Writable): Promise<void> {
    dest.once('close', () => this.#clientGone()) // after our end() this finds the pump ended and does nothing
    dest.on('error', () => this.#clientGone())
    while (!dest.destroyed) {
      const bytes = this.#takeQueued()
      if (this.#ended) {
        dest.end(bytes)
        return
      }
      if (bytes && !dest.write(bytes)) await drained(dest)
      else if (!bytes) await this.#pull()
    }
    this.#clientGone()
  }

  /** The bytes queued so far as one buffer (undefined when none). */
  #takeQueued(): Uint8Array | undefined {
    const queue = this.#queue
    if (queue.length <= 1) return queue.pop()
    return Buffer.concat(queue.splice(0))
  }

  /** The client went away (or the socket failed) before the end: stop the upstream at once. */
  #clientGone() {
    if (this.#ended) return
    this.#ended = true
    this.#stopUpstream()
    this.#owner.finish(CLIENT_CLOSED, 'client_abort', 'client closed the stream')
  }

  #stopUpstream() {
    ;(this.#raw ?? this.#source)?.return?.()?.catch(() => {})
  }

  /** Reads upstream until it yields bytes for the client (or the stream ends). */
  async #pull(): Promise<void> {
    while (!this.#ended && this.#queue.length === 0) {
      try {
        if (this.#source) await this.#pullDelta()
        else await this.#pullChunk()
      } catch (thrown) {
        this.#fail(thrown)
      }
    }
  }

  async #pullChunk(): Promise<void> {
    const chunk = await this.#raw!.next()
    if (this.#ended) return
    if (chunk.done) return this.#endOfUpstream(this.#process(this.#parser.end()))
    const bytes = chunk.value
    // The chunk's own bytes can stand for its text only when it holds whole events and whole characters.
    const aligned = this.#cleanBoundary && this.#parser.pending === 0
    this.#cleanBoundary = bytes[bytes.length - 1] === 0x0a
    this.#rewritten = false
    const text = this.#process(this.#parser.push(this.#decoder.decode(bytes, { stream: true })))
    if (!text) return
    if (!this.#encoder && aligned && this.#cleanBoundary && !this.#rewritten && this.#parser.pending === 0) this.#writeBytes(bytes)
    else this.#write(text)
  }

  async #pullDelta(): Promise<void> {
    const whole = this.#whole
    if (whole) {
      // A whole answer replayed: every frame in one write instead of one per delta.
      this.#whole = undefined
      let text = ''
      for (const delta of whole) text += this.#encodeDelta(delta)
      this.#write(text)
      return this.#endOfUpstream('')
    }
    const next = await this.#source!.next()
    if (this.#ended) return
    if (next.done) return this.#endOfUpstream('')
    this.#write(this.#encodeDelta(next.value))
  }

  #endOfUpstream(text: string) {
    if (!this.#completed) {
      this.#write(text)
      return this.#fail(new GatewayError(502, 'the upstream stream ended before it was complete', { type: 'api_error', code: 'incomplete_stream', upstream: true }))
    }
    if (this.#encoder) text += this.#encodeDeltas(this.#handlers.deltas.end()) + this.#frames(this.#encoder.end())
    this.#write(text)
    this.#ended = true
    this.#owner.finish(200, 'ok')
  }

  #process(events: SSEEvent[]): string {
    let out = ''
    for (const event of events) {
      applyUsage(this.#ctx.usage, this.#upstreamCodec.streamUsage(event))
      const deltas = this.#decode ? this.#decodeEvent(event) : undefined
      if (this.#encoder) {
        for (const delta of deltas!) out += this.#encodeDelta(delta)
        continue
      }
      if (!this.#completed && this.#upstreamCodec.streamDone(event)) this.#completed = true
      if (deltas) for (const delta of deltas) this.#handlers.deltas.push(delta) // observers only on this path
      out += this.#emit(event)
    }
    return out
  }

  #decodeEvent(event: SSEEvent): StreamDelta[] {
    let deltas: StreamDelta[]
    try {
      deltas = this.#decode!(event)
    } catch {
      return [] // an event that is not JSON carries nothing to translate
    }
    if (this.#encoder) for (const delta of deltas) if (delta.type === 'finish' || delta.type === 'done') this.#completed = true
    return deltas
  }

  /** One delta through the plugins' editors and the client's encoder. */
  #encodeDelta(delta: StreamDelta): string {
    if (this.#source) {
      if (delta.type === 'usage' || (delta.type === 'start' && delta.usage)) applyUsage(this.#ctx.usage, delta.usage)
      if (delta.type === 'finish' || delta.type === 'done') this.#completed = true
    }
    return this.#encodeDeltas(this.#handlers.deltas.push(delta))
  }

  #encodeDeltas(deltas: StreamDelta[]): string {
    let out = ''
    for (const delta of deltas) out += this.#frames(this.#encoder!.encode(delta))
    return out
  }

  #frames(frames: SSEFrame[]): string {
    let out = ''
    for (const frame of frames) out += this.#emit(sseEvent(frame.data, frame.event))
    return out
  }

  /** One client-format event through the usage hiding and the plugins' transforms; its text, or '' when dropped. */
  #emit(event: SSEEvent): string {
    if (this.#hideUsage && isUsageOnlyChunk(event)) {
      this.#rewritten = true
      return ''
    }
    let current: SSEEvent = event
    for (const transform of this.#transforms) {
      const next = transform(current, this.#ctx)
      if (!next) {
        this.#rewritten = true
        return ''
      }
      current = next === current ? current : asEvent(next)
    }
    const text = eventText(current)
    if (current !== event || current.raw === undefined) this.#rewritten = true
    return text
  }

  #writeBytes(bytes: Uint8Array) {
    if (this.#ctx.firstByteAt === undefined) this.#ctx.firstByteAt = this.#owner.now()
    this.#wrote = true
    this.#queue.push(bytes)
  }

  #write(text: string) {
    if (text) this.#writeBytes(Buffer.from(text, 'utf8'))
  }

  /** The upstream died midway (or a plugin refused the output): end the client's stream with an error event. */
  #fail(thrown: unknown) {
    if (this.#ended) return
    this.#ended = true
    this.#stopUpstream()
    const error = toGatewayError(thrown, this.#ctx.signal.aborted)
    if (error.status === CLIENT_CLOSED) {
      this.#owner.finish(CLIENT_CLOSED, 'client_abort', error.message)
      return
    }
    if (this.#priming && !this.#wrote) {
      this.#earlyError = error
      return
    }
    const info = errorInfo(error)
    const frames = this.#encoder ? this.#encoder.error(info) : this.#clientCodec.streamErrorFrames(info)
    // Error frames bypass transforms: they must reach the client whatever a plugin does with events.
    this.#write(frames.map(eventText).join(''))
    this.#owner.finish(error.status, info.type, error.message)
  }
}

function unsupported(from: WireFormat, to: string): GatewayError {
  return new GatewayError(400, `cannot translate a ${from} stream to ${to}`, { type: 'invalid_request_error', code: 'unsupported_translation' })
}
