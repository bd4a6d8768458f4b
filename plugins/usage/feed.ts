/**
 * The live event feed (`GET /admin/events`): each finished record as a server-sent event.
 *
 * Every subscriber has its own bounded buffer filled synchronously by the recorder and drained only when the
 * client's connection pulls (highWaterMark 0), so a slow client never slows the pipeline: once its buffer is
 * full, further records are skipped and counted, and after the buffered records it reads `event: lagged` with
 * the number it missed.
 *
 * The stream opens with a comment line, so the response's headers go out at once: a Node server sends headers
 * with the first body chunk, and a quiet gateway would otherwise leave the client waiting for the first record.
 */
import type { RequestRecord } from '../../core/index.ts'

export interface FeedOptions {
  /** Records buffered per subscriber before it starts skipping. */
  bufferSize: number
  /** Comment line sent when idle, so proxies keep the connection open (ms; 0 = off). */
  heartbeatMs?: number
  /** Stop the feed (client gone or gateway shutting down). */
  signal?: AbortSignal
}

export type Subscribe = (listener: (record: RequestRecord) => void) => () => void

const encoder = new TextEncoder()

export function recordEvent(record: RequestRecord): string {
  return `event: record\nid: ${record.id}\ndata: ${JSON.stringify(record)}\n\n`
}

/** The first bytes of every feed: an SSE comment that clients ignore. */
export const FEED_OPENING = ': connected\n\n'

export function laggedEvent(skipped: number): string {
  return `event: lagged\ndata: ${JSON.stringify({ skipped })}\n\n`
}

/** A text/event-stream body fed by `subscribe`. The subscription ends when the stream is cancelled or `signal` fires. */
export function createFeedStream(subscribe: Subscribe, options: FeedOptions): ReadableStream<Uint8Array> {
  const buffer: string[] = []
  let skipped = 0
  let wake: (() => void) | undefined
  let ended = false
  let unsubscribe: (() => void) | undefined
  let heartbeat: ReturnType<typeof setInterval> | undefined
  let idle = false

  const notify = () => {
    const resolve = wake
    wake = undefined
    resolve?.()
  }
  const end = () => {
    if (ended) return
    ended = true
    unsubscribe?.()
    if (heartbeat) clearInterval(heartbeat)
    options.signal?.removeEventListener('abort', end)
    notify()
  }

  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(FEED_OPENING))
      unsubscribe = subscribe((record) => {
        if (buffer.length >= options.bufferSize) {
          skipped++
          return
        }
        buffer.push(recordEvent(record))
        notify()
      })
      if (options.signal?.aborted) return end()
      options.signal?.addEventListener('abort', end, { once: true })
      if (options.heartbeatMs) {
        heartbeat = setInterval(() => {
          idle = true
          notify()
        }, options.heartbeatMs)
        heartbeat.unref?.()
      }
    },
    async pull(controller) {
      while (!ended && buffer.length === 0 && skipped === 0 && !idle) {
        await new Promise<void>((resolve) => (wake = resolve))
      }
      if (ended && buffer.length === 0 && skipped === 0) {
        controller.close()
        return
      }
      // Skipping starts only once the buffer is full, so the gap comes after everything buffered.
      let text = buffer.splice(0).join('')
      if (skipped > 0) {
        text += laggedEvent(skipped)
        skipped = 0
      }
      if (!text && idle) text = ': keep-alive\n\n'
      idle = false
      controller.enqueue(encoder.encode(text))
    },
    cancel: end,
  }, { highWaterMark: 0 })
}
