/**
 * Denylists: words and phrases (case-insensitive, whole words, any run of whitespace between a phrase's words)
 * and regexes of the operator's own.
 */
import { RegexDetector, charClass, escapeRegExp, findAll, regexTail, runTail, type Action, type CharTest, type Detector, type Span } from './detector.ts'

const WORD_CHAR = charClass(/[\p{L}\p{N}_]/u)
const isWordChar = (char: string | undefined) => char !== undefined && WORD_CHAR(char.charCodeAt(0))
const isSpaceCode = charClass(/\s/)
const isSpace = (char: string) => isSpaceCode(char.charCodeAt(0))

/** Words and phrases, matched whole and case-insensitively. */
export class WordsDetector implements Detector {
  readonly maxLength: number
  readonly #regex: RegExp
  /** Lower-cased words (single spaces between a phrase's words), by first character (either case). */
  readonly #byFirst = new Map<string, string[]>()
  readonly #isFirst: CharTest

  constructor(readonly rule: string, readonly action: Action, words: readonly string[]) {
    const normal = [...new Set(words.map((word) => word.trim().replace(/\s+/g, ' ').toLowerCase()))].sort((a, b) => b.length - a.length)
    for (const word of normal) {
      // Both cases of the first character, so a lookup needs no lower-casing.
      for (const first of new Set([word[0]!, word[0]!.toUpperCase()])) {
        const list = this.#byFirst.get(first) ?? []
        list.push(word)
        this.#byFirst.set(first, list)
      }
    }
    this.#isFirst = charClass({ test: (char) => this.#byFirst.has(char) })
    // A phrase may be spread over line breaks and double spaces: allow a few per gap in the window.
    this.maxLength = Math.max(...normal.map((word) => word.length + 8 * (word.split(' ').length - 1)))
    const sources = normal.map((word) => {
      const body = word.split(' ').map(escapeRegExp).join('\\s+')
      return `${isWordChar(word[0]) ? '(?<![\\p{L}\\p{N}_])' : ''}${body}${isWordChar(word[word.length - 1]) ? '(?![\\p{L}\\p{N}_])' : ''}`
    })
    this.#regex = new RegExp(sources.join('|'), 'giu')
  }

  find(text: string): Span[] {
    return findAll(this.#regex, text)
  }

  pendingFrom(text: string): number {
    for (let at = Math.max(0, text.length - this.maxLength); at < text.length; at++) {
      if (!this.#isFirst(text.charCodeAt(at))) continue
      const words = this.#byFirst.get(text[at]!)
      if (!words) continue
      for (const word of words) {
        if (isWordChar(word[0]) && isWordChar(text[at - 1])) continue
        if (this.#beginsAt(word, text, at)) return at
      }
    }
    return text.length
  }

  /** Whether the text from `at` to its end is the beginning (or the whole) of `word`. */
  #beginsAt(word: string, text: string, at: number): boolean {
    let i = at
    for (let j = 0; j < word.length; j++) {
      if (i >= text.length) return true
      if (word[j] === ' ') {
        if (!isSpace(text[i]!)) return false
        while (i < text.length && isSpace(text[i]!)) i++
        continue
      }
      if (text[i]!.toLowerCase() !== word[j]) return false
      i++
    }
    return i >= text.length // the whole word, at the very end: the next character decides whether it is one
  }
}

export interface PatternSpec {
  pattern: RegExp
  /** The longest a match can be. */
  maxLength: number
  /** Whether a match may hold whitespace; without it a stream holds back only the trailing run of non-space. */
  spaces: boolean
}

const NOT_SPACE: CharTest = (code) => !isSpaceCode(code)

/** A regex of the operator's own. */
export function patternDetector(rule: string, action: Action, spec: PatternSpec): Detector {
  return new RegexDetector({
    rule, action, maxLength: spec.maxLength,
    pattern: spec.pattern,
    pending: spec.spaces ? regexTail(new RegExp(`[\\s\\S]{1,${Math.max(1, spec.maxLength - 1)}}$`), spec.maxLength) : runTail(NOT_SPACE, spec.maxLength),
  })
}
