/**
 * Collecting an answer as it passes, to store it. A stream — raw SSE bytes in the upstream's format, or the
 * neutral deltas a provider yields — is wrapped in an iterator that hands every chunk on unchanged and keeps
 * the deltas it carries; when the upstream has ended the collected answer is handed to `onEnd` *before* the
 * end reaches the client, so an entry is written by the time the client has its whole answer.
 *
 * Only a complete stream is kept: a finish seen, no error, the upstream read to its end (not cancelled: a
 * client that went away, or a plugin that ended the response), the request not aborted. Collection is bounded:
 * past `maxBytes` the deltas are dropped and the answer is not kept, so memory per stream stays bounded.
 *
 * What is collected is the upstream's answer, before any plugin's delta editor: a hit then passes the same
 * editors a miss does, exactly once.
 */
import { codecFor, collectDeltas, SSEParser } from '../../core/index.ts'
import type { ResponseView, StreamDelta, TranslateInfo, WireFormat } from '../../core/index.ts'

/** Approximate bytes a delta takes in a stored entry. */
function deltaBytes(delta: StreamDelta): number {
  switch (delta.type) {
    case 'text':
    case 'thinking':
      return delta.text.length + 16
    case 'tool_call_delta':
      return delta.arguments.length + 16
    case 'thinking_signature':
      return delta.signature.length + 16
    case 'tool_call_start':
      return delta.id.length + delta.name.length + 32
    default:
      return 64
  }
}

/** The answer as it will be stored: without the upstream's id and model (a hit gets its own). */
export function storable(view: ResponseView): ResponseView {
  const { id: _id, model: _model, ...rest } = view
  return rest
}

export class Collector {
  #deltas: StreamDelta[] = []
  #bytes = 0
  #finished = false
  #failed = false

  constructor(readonly maxBytes: number) {}

  add(delta: StreamDelta): void {
    if (this.#failed) return
    if (delta.type === 'error') return this.fail()
    if (delta.type === 'finish') this.#finished = true
    this.#bytes += deltaBytes(delta)
    if (this.#bytes > this.maxBytes) return this.fail()
    this.#deltas.push(delta)
  }

  fail(): void {
    this.#failed = true
    this.#deltas = []
  }

  /** The whole answer, when what was collected is one. */
  result(): ResponseView | undefined {
    if (this.#failed || !this.#finished) return undefined
    try {
      return storable(collectDeltas(this.#deltas))
    } catch {
      return undefined
    }
  }
}

export type OnEnd = (answer: ResponseView | undefined) => void | Promise<void>

/**
 * Wraps a stream so what it carries is collected. `feed` turns one item into deltas for the collector; `onEnd`
 * gets the answer (undefined when the stream is not complete) exactly once.
 */
function tee<T>(source: AsyncIterable<T>, feed: (item: T, collector: Collector) => void, finish: (collector: Collector) => void, collector: Collector, signal: AbortSignal, onEnd: OnEnd): AsyncIterable<T> {
  let inner: AsyncIterator<T> | undefined
  let ended = false
  const end = (answer: ResponseView | undefined) => {
    if (ended) return
    ended = true
    return onEnd(answer)
  }
  const iterator: AsyncIterator<T> = {
    async next() {
      inner ??= source[Symbol.asyncIterator]()
      let step: IteratorResult<T>
      try {
        step = await inner.next()
      } catch (error) {
        await end(undefined)
        throw error
      }
      if (ended) return step
      if (step.done) {
        finish(collector)
        await end(signal.aborted ? undefined : collector.result())
        return step
      }
      try {
        feed(step.value, collector)
      } catch {
        collector.fail()
      }
      return step
    },
    async return(value?: unknown) {
      // Cancelled before the end: the client went away, or a plugin ended the response. Not kept.
      const pending = end(undefined)
      const result = inner?.return ? await inner.return(value) : { done: true as const, value: undefined }
      await pending
      return result as IteratorResult<T>
    },
  }
  return { [Symbol.asyncIterator]: () => iterator }
}

/** A raw SSE stream in `format`, decoded with that format's own stream decoder as it passes. */
export function collectRawStream(stream: AsyncIterable<Uint8Array>, format: WireFormat, info: TranslateInfo, maxBytes: number, signal: AbortSignal, onEnd: OnEnd): AsyncIterable<Uint8Array> {
  const collector = new Collector(maxBytes)
  const decode = codecFor(format).streamDecoder?.(info)
  if (!decode) collector.fail()
  const parser = new SSEParser()
  const text = new TextDecoder()
  const take = (events: ReturnType<SSEParser['push']>, into: Collector) => {
    for (const event of events) {
      let deltas: StreamDelta[]
      try {
        deltas = decode!(event)
      } catch {
        continue // an event that is not JSON (a keep-alive) carries nothing
      }
      for (const delta of deltas) into.add(delta)
    }
  }
  return tee(
    stream,
    (bytes, into) => { if (decode) take(parser.push(text.decode(bytes, { stream: true })), into) },
    (into) => { if (decode) take(parser.end(), into) },
    collector, signal, onEnd,
  )
}

/** A stream of neutral deltas (a provider that answers in the view). */
export function collectDeltaStream(deltas: AsyncIterable<StreamDelta>, maxBytes: number, signal: AbortSignal, onEnd: OnEnd): AsyncIterable<StreamDelta> {
  return tee(deltas, (delta, into) => into.add(delta), () => {}, new Collector(maxBytes), signal, onEnd)
}
