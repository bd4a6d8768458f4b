/**
 * Runs detectors over text, whole or as it streams. A stream goes through a sliding window: each delta is added
 * to the held text, matches that can no longer change are acted on, and the text is released up to the first
 * place where a match could still be under way (a detector's pending tail, or a match that touches the end and
 * may still grow). So a match split across deltas is caught, and what waits is only what a match could still
 * need — never more than the longest rule's `maxLength`.
 */
import type { Action, Detector, Span } from './detector.ts'

/** What the scanner reports to. */
export interface ScanSink {
  /** A match of a `redact` or `flag` rule was acted on. */
  hit(rule: string, action: Action): void
  /** A match of a `block` rule: throws (nothing of the held text is released). */
  block(rule: string): never
}

/** Released text kept before the held text, so lookbehinds and word boundaries see what came before. */
const CONTEXT = 32

interface Found extends Span {
  detector: Detector
}

export class TextWindow {
  #held = ''
  #context = ''

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly sink: ScanSink,
    private readonly replacement: (rule: string) => string,
  ) {}

  /** Characters waiting for more text. */
  get holding(): number {
    return this.#held.length
  }

  /** Adds a delta's text; returns what can go out now (redacted), possibly ''. */
  push(text: string): string {
    this.#held += text
    return this.#release(false)
  }

  /** The text has ended: everything held, checked as final. */
  end(): string {
    return this.#release(true)
  }

  /** One whole text, checked at once. */
  whole(text: string): string {
    this.#held = text
    return this.#release(true)
  }

  #release(final: boolean): string {
    const held = this.#held
    if (!held) return ''
    const offset = this.#context.length
    const full = offset > 0 ? this.#context + held : held
    const found: Found[] = []
    let cut = held.length
    let forcedEnd = 0
    for (const detector of this.detectors) {
      const pending = final ? full.length : detector.pendingFrom(full)
      if (pending - offset < cut) cut = Math.max(0, pending - offset)
      for (const span of detector.find(full)) {
        if (span.start < offset) continue // began in text already released: it was checked then
        const match = { start: span.start - offset, end: span.end - offset, detector }
        // Complete: more text can no longer change it (it does not reach the end or its detector's pending tail).
        if (final || (span.end < full.length && span.end <= pending)) found.push(match)
        else if (match.end - match.start >= detector.maxLength) {
          found.push(match) // as long as it may be: acted on as it stands
          forcedEnd = Math.max(forcedEnd, match.end)
        } else if (match.start < cut) cut = match.start
      }
    }
    for (const match of found) if (match.detector.action === 'block') this.sink.block(match.detector.rule)
    if (forcedEnd > cut) cut = forcedEnd
    // Never cut through a match: back to its start (it is found again next time), or past it when forced on.
    for (let moved = true; moved;) {
      moved = false
      for (const match of found) {
        if (match.start < cut && match.end > cut) {
          cut = forcedEnd > 0 ? match.end : match.start
          moved = true
        }
      }
    }
    if (cut === 0) return ''
    const released = held.slice(0, cut)
    this.#held = held.slice(cut)
    this.#context = (this.#context + released).slice(-CONTEXT)
    return this.#apply(released, found.filter((match) => match.end <= cut))
  }

  /** Records each match in the released text and replaces the redacted ones (overlapping spans merged). */
  #apply(text: string, matches: Found[]): string {
    if (matches.length === 0) return text
    const redact: Found[] = []
    for (const match of matches) {
      this.sink.hit(match.detector.rule, match.detector.action)
      if (match.detector.action === 'redact') redact.push(match)
    }
    if (redact.length === 0) return text
    redact.sort((a, b) => a.start - b.start || b.end - a.end)
    let out = ''
    let at = 0
    for (let i = 0; i < redact.length;) {
      const first = redact[i]!
      let end = first.end
      while (++i < redact.length && redact[i]!.start < end) end = Math.max(end, redact[i]!.end)
      out += text.slice(at, first.start) + this.replacement(first.detector.rule)
      at = end
    }
    return out + text.slice(at)
  }
}

/** Checks one whole text; returns it redacted (or throws through the sink's `block`). */
export function scanText(text: string, detectors: readonly Detector[], sink: ScanSink, replacement: (rule: string) => string): string {
  return detectors.length === 0 || !text ? text : new TextWindow(detectors, sink, replacement).whole(text)
}
