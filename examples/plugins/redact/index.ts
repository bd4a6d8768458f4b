/**
 * Redacts secrets and personal data — chosen words, e-mail addresses and `sk-…` keys by default — from the model's
 * replies, streamed or not, whatever the client's and the provider's formats: it edits the neutral view, and the
 * gateway encodes the result in the client's format. With `input: true` it also redacts the request's messages
 * before they leave for the provider.
 *
 * A stream is redacted as it flows: text goes out as soon as no match can still start in it or grow through it,
 * so only the tail that might be the beginning of a secret (`…my key is sk-ab`) waits for the next delta.
 */
import { definePlugin, parseOptions, z } from 'sluice'
import type { RequestContext, RequestView, StreamDelta } from 'sluice'

export const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/
export const API_KEY = /\bsk-[\w-]{16,}/

const optionsSchema = z.strictObject({
  /** Literal words or phrases, matched case-insensitively. */
  words: z.array(z.string().min(1)).default([]),
  /** Patterns for secrets. A match lies within one run of non-space characters, as keys and addresses do. */
  patterns: z.array(z.instanceof(RegExp)).default([EMAIL, API_KEY]),
  replacement: z.string().default('[redacted]'),
  /** Also redact the request's messages (and system prompt) before they reach the provider. */
  input: z.boolean().default(false),
  /** The longest text a match can be: bounds what a stream holds back; a longer secret is cut and may leak. */
  maxMatchLength: z.number().int().min(1).default(256),
})

type RedactOptions = z.output<typeof optionsSchema>

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Finds and replaces matches, and says how much of a growing text is settled. */
class Redactor {
  readonly #rules: RegExp[]
  readonly #words: string[]

  constructor(private readonly options: RedactOptions) {
    this.#words = options.words.map((word) => word.toLowerCase())
    this.#rules = options.patterns.map((pattern) => new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '') + 'g'))
    // Longest first, so a word that begins another ("sword", "swordfish") does not win over it.
    const words = [...options.words].sort((a, b) => b.length - a.length).map(escapeRegExp)
    if (words.length) this.#rules.push(new RegExp(words.join('|'), 'gi'))
  }

  redact(text: string): string {
    const replacement = () => this.options.replacement // a function: `$&` in a replacement stays literal
    for (const rule of this.#rules) text = text.replace(rule, replacement)
    return text
  }

  /** The length of `text`'s head that no match can still start in or grow through, whatever text follows. */
  settled(text: string): number {
    let cut = Math.min(this.#trailingRunStart(text), this.#wordPrefixStart(text))
    cut = Math.max(cut, text.length - this.options.maxMatchLength)
    // Never cut through a match: back to its start, until no match of any rule straddles the cut.
    for (let moved = true; moved;) {
      moved = false
      for (const rule of this.#rules) {
        for (const match of text.matchAll(rule)) {
          const end = match.index + match[0].length
          if (match.index < cut && end > cut && end - match.index <= this.options.maxMatchLength) {
            cut = match.index
            moved = true
          }
        }
      }
    }
    return cut
  }

  /** Where the last run of non-space characters starts: a pattern match there may still grow. */
  #trailingRunStart(text: string): number {
    if (this.options.patterns.length === 0) return text.length
    let start = text.length
    while (start > 0 && !/\s/.test(text[start - 1]!)) start--
    return start
  }

  /** Where the longest tail that begins one of the words starts (a phrase can span spaces). */
  #wordPrefixStart(text: string): number {
    const tail = text.slice(-this.options.maxMatchLength).toLowerCase()
    let longest = 0
    for (const word of this.#words) {
      for (let length = Math.min(word.length - 1, tail.length); length > longest; length--) {
        if (tail.endsWith(word.slice(0, length))) longest = length
      }
    }
    return text.length - longest
  }
}

/** The request with every text the model would read redacted; undefined when nothing changed. */
function redactRequest(view: RequestView, redactor: Redactor): RequestView | undefined {
  let changed = false
  const text = (value: string) => {
    const redacted = redactor.redact(value)
    if (redacted !== value) changed = true
    return redacted
  }
  const messages = view.messages.map((message) => ({
    ...message,
    content: message.content.map((part) => {
      if (part.type === 'text') return { ...part, text: text(part.text) }
      if (part.type !== 'tool_result') return part
      return { ...part, content: part.content.map((item) => (item.type === 'text' ? { ...item, text: text(item.text) } : item)) }
    }),
  }))
  const redacted = { ...view, system: view.system.map(text), messages }
  return changed ? redacted : undefined
}

/**
 * Reply text is held back only while a match could still need it. Reasoning is left alone: Anthropic signs
 * thinking blocks, and a client that sends an edited one back is refused.
 */
function streamRedaction(redactor: Redactor) {
  let held = ''
  const release = (): StreamDelta[] => {
    const text = redactor.redact(held)
    held = ''
    return text ? [{ type: 'text', text }] : []
  }
  return {
    delta(delta: StreamDelta): StreamDelta | StreamDelta[] | null | undefined {
      if (delta.type !== 'text') return held ? [...release(), delta] : undefined
      held += delta.text
      const cut = redactor.settled(held)
      const text = redactor.redact(held.slice(0, cut))
      held = held.slice(cut)
      return text ? { type: 'text', text } : null
    },
    flush: release,
  }
}

export const redact = definePlugin((input: z.input<typeof optionsSchema> = {}) => {
  const options = parseOptions('redact', optionsSchema, input)
  const redactor = new Redactor(options)

  function redactInput(ctx: RequestContext): void {
    if (ctx.api === 'openai-embeddings' || ctx.state.redact?.input) return // embeddings have no neutral view
    ctx.state.redact = { input: true } // once per request, however many attempts
    const redacted = redactRequest(ctx.input(), redactor)
    // Only an edited request is re-encoded from the view; an untouched one goes out as the client sent it.
    if (redacted) ctx.setInput(redacted)
  }

  return {
    name: 'redact',
    // Shown by `sluice check` and the dashboard: the words themselves are often the secrets.
    options: { ...options, words: `${options.words.length} words`, patterns: options.patterns.map(String) },
    hooks: {
      stream: () => streamRedaction(redactor),
      ...(options.input && {
        call(ctx, attempt, next) {
          redactInput(ctx)
          return next(attempt)
        },
      }),
    },
  }
})
