/**
 * A detector finds one kind of match in text (an e-mail address, a card number, a denylisted word) and says how
 * much of a growing text could still become one. The second half is what lets a stream be checked on a sliding
 * window: text is released once no match can start in it or grow through it, so only a possible beginning of a
 * match (`…my key is sk-ab`) waits for the next delta.
 */

export type Action = 'block' | 'redact' | 'flag'
export type Phase = 'input' | 'output'

/** A match: `text.slice(start, end)`. */
export interface Span {
  start: number
  end: number
}

export interface Detector {
  /** The rule's name, as errors, metrics and records show it (never the matched text). */
  readonly rule: string
  readonly action: Action
  /** The longest a match can be. A stream holds back at most this much for this detector. */
  readonly maxLength: number
  /** Every match in `text`. */
  find(text: string): Span[]
  /**
   * Where the tail of `text` that could still be (or begin) a match starts, whatever text follows; `text.length`
   * when no match can be under way at the end.
   */
  pendingFrom(text: string): number
}

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A regex that finds every match, whatever flags it was written with. */
export function globalRegExp(pattern: RegExp): RegExp {
  return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '') + 'g')
}

const NO_SPANS: Span[] = []

/**
 * Every match of a global regex in `text` (an `exec` loop on the one regex: `matchAll` would clone the regex and
 * allocate an iterator per call, per detector, per delta).
 */
export function findAll(pattern: RegExp, text: string, verify?: (match: string) => boolean): Span[] {
  let spans = NO_SPANS
  pattern.lastIndex = 0
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const length = match[0].length
    if (length === 0) {
      pattern.lastIndex++
      continue
    }
    if (verify && !verify(match[0])) continue
    if (spans === NO_SPANS) spans = []
    spans.push({ start: match.index, end: match.index + length })
  }
  return spans
}

export interface RegexDetectorSpec {
  rule: string
  action: Action
  pattern: RegExp
  /** A further check of a candidate match (a Luhn or mod-97 checksum). */
  verify?: (match: string) => boolean
  /** A cheap test every text with a match passes (`/@/` for e-mail): most texts skip the full pattern. */
  prefilter?: RegExp
  /** `Detector.pendingFrom`: build it with `runTail`, `tokenTail` or `regexTail`. */
  pending: (text: string) => number
  maxLength: number
}

export class RegexDetector implements Detector {
  readonly rule: string
  readonly action: Action
  readonly maxLength: number
  readonly pendingFrom: (text: string) => number
  readonly #pattern: RegExp
  readonly #verify: ((match: string) => boolean) | undefined
  readonly #prefilter: RegExp | undefined

  constructor(spec: RegexDetectorSpec) {
    this.rule = spec.rule
    this.action = spec.action
    this.maxLength = spec.maxLength
    this.pendingFrom = spec.pending
    this.#pattern = globalRegExp(spec.pattern)
    this.#verify = spec.verify
    this.#prefilter = spec.prefilter && new RegExp(spec.prefilter.source, spec.prefilter.flags.replace(/[gy]/g, ''))
  }

  find(text: string): Span[] {
    if (this.#prefilter && !this.#prefilter.test(text)) return NO_SPANS
    return findAll(this.#pattern, text, this.#verify)
  }
}

/** One character class, tested a UTF-16 code unit at a time (these run per held character, per delta). */
export type CharTest = (code: number) => boolean

/** A character class as a test: a table lookup for ASCII, the regex beyond. */
export function charClass(regex: { test(char: string): boolean }): CharTest {
  const ascii = new Uint8Array(128)
  for (let code = 0; code < 128; code++) ascii[code] = regex.test(String.fromCharCode(code)) ? 1 : 0
  return (code) => (code < 128 ? ascii[code] === 1 : regex.test(String.fromCharCode(code)))
}

/**
 * A match made only of `body` characters (an e-mail address, a card number): the trailing run of them, at most
 * `maxLength` long, from its first character that may begin a match.
 */
export function runTail(body: CharTest, maxLength: number, first: CharTest = body): (text: string) => number {
  return (text) => {
    const floor = Math.max(0, text.length - maxLength)
    let start = text.length
    while (start > floor && body(text.charCodeAt(start - 1))) start--
    while (start < text.length && !first(text.charCodeAt(start))) start++
    return start
  }
}

/**
 * A token that begins with one of `starts` (`sk-`, `AKIA`, `-----BEGIN `) and goes on with `body` characters:
 * the earliest position at a token boundary from which the tail is a start and its body so far, or a proper
 * prefix of a start. A run of ordinary words holds nothing back.
 */
export function tokenTail(starts: readonly string[], body: CharTest, maxLength: number, boundary: CharTest = charClass(/[A-Za-z0-9_-]/)): (text: string) => number {
  const inToken = charClass({ test: (char) => body(char.charCodeAt(0)) || starts.some((start) => start.includes(char)) })
  const first = charClass({ test: (char) => starts.some((start) => start[0] === char) })
  return (text) => {
    const floor = Math.max(0, text.length - maxLength)
    let run = text.length
    while (run > floor && inToken(text.charCodeAt(run - 1))) run--
    for (let at = run; at < text.length; at++) {
      if (!first(text.charCodeAt(at)) || (at > 0 && boundary(text.charCodeAt(at - 1)))) continue
      const rest = text.length - at
      for (const start of starts) {
        if (rest < start.length ? start.startsWith(text.slice(at)) : text.startsWith(start, at)) return at
      }
    }
    return text.length
  }
}

/** A tail regex anchored at the end (`…$`), searched in the last `tailLength` characters. */
export function regexTail(tail: RegExp, tailLength: number): (text: string) => number {
  const regex = new RegExp(tail.source, tail.flags.replace(/[gy]/g, ''))
  return (text) => {
    const from = Math.max(0, text.length - tailLength)
    const match = regex.exec(from > 0 ? text.slice(from) : text)
    return match && match[0].length > 0 ? from + match.index : text.length
  }
}
