/**
 * Server-sent events: an incremental parser that keeps each event's original text (so an untouched event
 * is written out as it came, with no re-serialisation) and a serialiser for events a transform replaced.
 */
import type { SSEEvent } from './types.ts'
import type { SSEFrame } from './formats/types.ts'

/**
 * An event as parsed. Its original text is kept privately and written out only while `data` is unchanged: a
 * transform that assigns `data`, or returns a copy (`{ ...event, data }` copies no private state), gets its
 * change written.
 */
class ParsedEvent implements SSEEvent {
  #raw: string | undefined
  readonly #rawData: string
  #json: any = UNPARSED
  #jsonOf: string | undefined
  constructor(public data: string, public event: string | undefined, raw: string | undefined) {
    this.#raw = raw
    this.#rawData = data
  }
  /** The exact text this event arrived as, while its data is unchanged. */
  get raw(): string | undefined {
    return this.data === this.#rawData ? this.#raw : undefined
  }
  get json(): any {
    if (this.#json === UNPARSED || this.#jsonOf !== this.data) {
      this.#jsonOf = this.data
      try {
        this.#json = JSON.parse(this.data)
      } catch {
        this.#json = undefined
      }
    }
    return this.#json
  }
}
const UNPARSED = Symbol('unparsed')

/** An event a transform returned, made a full event again (a spread copy has no lazy `json`). */
export function asEvent(value: SSEEvent): SSEEvent {
  return value instanceof ParsedEvent ? value : new ParsedEvent(String(value.data ?? ''), value.event, undefined)
}

/** Builds an event (for transforms and translators that make new ones). */
export function sseEvent(data: string, event?: string): SSEEvent {
  return new ParsedEvent(data, event, undefined)
}

/** Splits text chunks into events. Handles \n, \r\n and \r line ends and events split across chunks. */
export class SSEParser {
  #buffer = ''

  /** Characters held back: an event whose end has not arrived yet. */
  get pending(): number {
    return this.#buffer.length
  }

  /** Feeds one decoded chunk; returns the events it completed. */
  push(text: string): SSEEvent[] {
    this.#buffer = this.#buffer ? this.#buffer + text : text
    const events: SSEEvent[] = []
    let start = 0
    for (;;) {
      const end = findEventEnd(this.#buffer, start)
      if (end < 0) break
      const raw = this.#buffer.slice(start, end)
      const event = parseEvent(raw)
      if (event) events.push(event)
      start = end
    }
    this.#buffer = start === 0 ? this.#buffer : this.#buffer.slice(start)
    return events
  }

  /** The upstream ended: a final event without its blank line still counts. */
  end(): SSEEvent[] {
    const rest = this.#buffer
    this.#buffer = ''
    if (!rest.trim()) return []
    const event = parseEvent(rest + '\n\n')
    return event ? [event] : []
  }
}

/** Index just past the blank line that ends the event starting at `from`, or -1. */
function findEventEnd(buffer: string, from: number): number {
  const lf = buffer.indexOf('\n\n', from)
  if (buffer.indexOf('\r', from) < 0) return lf < 0 ? -1 : lf + 2
  const match = /\r\n\r\n|\n\n|\r\r/g
  match.lastIndex = from
  const found = match.exec(buffer)
  return found ? found.index + found[0].length : -1
}

function parseEvent(raw: string): SSEEvent | undefined {
  // The common case, one `data: ` line and its blank line, without splitting lines.
  if (raw.startsWith('data: ') && raw.endsWith('\n\n') && raw.indexOf('\n') === raw.length - 2 && raw.indexOf('\r') < 0) {
    return new ParsedEvent(raw.slice(6, -2), undefined, raw)
  }
  let data: string | undefined
  let name: string | undefined
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (!line || line.charCodeAt(0) === 58 /* ':' comment */) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`
    else if (field === 'event') name = value
  }
  // Comment-only blocks (keep-alives) carry no data; pass their text through all the same.
  return new ParsedEvent(data ?? '', name, raw)
}

/** The text of one event: its original text when it has one (and is unchanged), else serialised. */
export function eventText(event: SSEEvent | SSEFrame): string {
  const raw = (event as SSEEvent).raw
  if (raw !== undefined) return raw
  let out = event.event ? `event: ${event.event}\n` : ''
  const data = event.data
  if (data.indexOf('\n') < 0) return `${out}data: ${data}\n\n`
  for (const line of data.split('\n')) out += `data: ${line}\n`
  return `${out}\n`
}
