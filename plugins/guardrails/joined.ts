/**
 * Several texts (a conversation's messages, a reply's text parts) seen by a check as one, and the spans it
 * returns mapped back onto each text for redaction.
 */
import type { Span } from './detector.ts'

export const SEPARATOR = '\n\n'

export class Joined {
  readonly text: string
  readonly #starts: number[] = []

  constructor(readonly parts: readonly string[]) {
    let at = 0
    for (const part of parts) {
      this.#starts.push(at)
      at += part.length + SEPARATOR.length
    }
    this.text = parts.join(SEPARATOR)
  }

  /** The parts with `spans` of the joined text replaced (no spans: every non-empty part replaced whole). */
  redact(spans: readonly Span[] | undefined, replacement: string): string[] {
    if (!spans) return this.parts.map((part) => (part ? replacement : part))
    return this.parts.map((part, i) => {
      const base = this.#starts[i]!
      const local = spans
        .map((span) => ({ start: Math.max(span.start - base, 0), end: Math.min(span.end - base, part.length) }))
        .filter((span) => span.start < span.end)
        .sort((a, b) => a.start - b.start)
      if (local.length === 0) return part
      let out = ''
      let at = 0
      for (const span of local) {
        if (span.end <= at) continue
        out += part.slice(at, Math.max(at, span.start)) + (span.start >= at ? replacement : '')
        at = span.end
      }
      return out + part.slice(at)
    })
  }
}
