/**
 * Token estimates for when a provider reports no usage: output counted from the stream events as they pass (never
 * the whole body), the prompt counted in the record hook in slices with a yield between them, so a large
 * prompt never holds the event loop. Counts use gpt-tokenizer (o200k_base): exact for current OpenAI models,
 * an estimate for everyone else, and always marked `estimated`.
 */
import { countTokens } from 'gpt-tokenizer'
import type { RequestRecord, SSEEvent, StreamDelta, StreamTransform, Usage } from '../../core/index.ts'

// Client text may contain `<|endoftext|>` and friends: count them as text instead of throwing.
const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() }

export function countTextTokens(text: string): number {
  return text ? countTokens(text, ENCODE_OPTIONS) : 0
}

/** What a stream's estimator has seen so far. Lives in `ctx.state.usage`. */
export interface StreamEstimate {
  outputTokens: number
  /** The stream carried the provider's final usage: no need to count further. */
  finalUsageSeen: boolean
  /**
   * Output text not tokenized yet: tokenized a batch at a time, and the rest only if the provider's usage never
   * comes. Only the delta text is kept (fresh strings from JSON.parse), never the events, so a stream's memory
   * stays flat.
   */
  pendingText?: string
  /** Client-format events not decoded yet (see `rawEventEstimator`), and their size in characters. */
  pendingEvents?: SSEEvent[]
  pendingEventChars?: number
  /** Decodes and counts `pendingEvents`; set by `rawEventEstimator`. */
  decodePending?: () => void
}

// Most streams end with the provider's own usage, which makes counting moot: tokenize in batches of this many
// characters (bounded memory per stream), and the last partial batch only when it is needed.
const BATCH_CHARS = 8_192

/** Tokenizes the text held back so far (decoding any events held back first). */
export function flushEstimate(state: StreamEstimate): void {
  state.decodePending?.()
  if (!state.pendingText) return
  state.outputTokens += countTextTokens(state.pendingText)
  state.pendingText = ''
}

/** The output text one delta carries ('' for none). */
function deltaText(delta: StreamDelta): string {
  switch (delta.type) {
    case 'text': case 'thinking': return delta.text
    case 'tool_call_start': return delta.name
    case 'tool_call_delta': return delta.arguments
    default: return ''
  }
}

/**
 * A `stream` observer: keeps each delta's output text and tokenizes it a batch at a time, and stops once the
 * provider's final usage passed (a `usage` delta). `flushEstimate` counts the rest at the end.
 */
export function outputEstimator(state: StreamEstimate): (delta: StreamDelta) => void {
  return (delta) => {
    if (state.finalUsageSeen) return
    if (delta.type === 'usage') {
      state.finalUsageSeen = true
      state.pendingText = ''
      return
    }
    const text = deltaText(delta)
    if (!text) return
    state.pendingText = state.pendingText ? state.pendingText + text : text
    if (state.pendingText.length >= BATCH_CHARS) flushEstimate(state)
  }
}

/**
 * A `stream` event transform that does nothing per event but keep it: the client-format events are decoded into
 * deltas (and counted by `outputEstimator`) a batch at a time, and the last batch only if the provider's usage
 * never came. Most streams end with the provider's usage before a batch fills, so they are never parsed for this.
 */
export function rawEventEstimator(state: StreamEstimate, decode: () => (event: SSEEvent) => StreamDelta[]): StreamTransform {
  const onDelta = outputEstimator(state)
  let decoder: ((event: SSEEvent) => StreamDelta[]) | undefined
  state.decodePending = () => {
    const events = state.pendingEvents
    if (!events?.length) return
    state.pendingEvents = []
    state.pendingEventChars = 0
    decoder ??= decode()
    for (const event of events) {
      let deltas: StreamDelta[]
      try {
        deltas = decoder(event)
      } catch {
        continue // not an event of the format: nothing to count
      }
      for (const delta of deltas) onDelta(delta)
    }
  }
  return (event) => {
    if (state.finalUsageSeen) return event
    ;(state.pendingEvents ??= []).push(event)
    state.pendingEventChars = (state.pendingEventChars ?? 0) + event.data.length
    if (state.pendingEventChars >= BATCH_CHARS) state.decodePending!()
    return event
  }
}

/**
 * Folds a stream's estimate into the record's usage. Provider numbers win when the stream completed with them;
 * when it ended early (abort, upstream failure) the larger of provider and estimate wins, since a provider that
 * reports at the start (Anthropic's message_start) under-counts a stream cut short. True when usage changed.
 */
export function mergeOutputEstimate(usage: Usage, outcome: string, estimate: StreamEstimate | undefined): boolean {
  if (!estimate || estimate.outputTokens === 0) return false
  const providerReported = !usage.estimated && usage.outputTokens > 0
  if (providerReported && (outcome === 'ok' || estimate.finalUsageSeen)) return false
  if (usage.outputTokens >= estimate.outputTokens) return false
  usage.outputTokens = estimate.outputTokens
  usage.estimated = true
  return true
}

/** The prompt reached a provider that (likely) processed it, yet no input count arrived. */
export function needsPromptEstimate(record: RequestRecord): boolean {
  if (record.usage.inputTokens > 0 || record.attempts === 0 || !record.provider) return false
  return record.status < 400 || record.status === 499 || record.status === 504 || record.ttfbMs !== undefined
}

const SLICE_CHARS = 8_192
const YIELD_EVERY_CHARS = 32_768
const PER_MESSAGE_OVERHEAD = 4
// Every wire format's prompt fields: chat, Anthropic, Responses, Gemini (incl. countTokens' wrapper), embeddings.
const CONTENT_FIELDS = ['system', 'messages', 'input', 'prompt', 'instructions', 'tools', 'contents', 'systemInstruction', 'generateContentRequest', 'requests', 'content']
// Binary payloads (images, audio) are base64: their token cost is not their text length.
const SKIPPED_KEYS = new Set(['data', 'image_url', 'b64_json', 'image', 'audio', 'input_audio', 'source'])

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve))

function collectTexts(body: Record<string, unknown>): { texts: string[]; tokenIds: number } {
  const texts: string[] = []
  let tokenIds = 0
  const stack: unknown[] = []
  for (const field of CONTENT_FIELDS) if (body[field] !== undefined) stack.push(body[field])
  while (stack.length > 0) {
    const value = stack.pop()
    if (typeof value === 'string') {
      if (!value.startsWith('data:')) texts.push(value)
    } else if (typeof value === 'number') {
      tokenIds++ // embeddings accept pre-tokenised input: one number per token
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i])
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) if (!SKIPPED_KEYS.has(key)) stack.push(inner)
    }
  }
  return { texts, tokenIds }
}

/** Prompt text counted with the tokenizer at most; the rest is extrapolated at the same tokens-per-character. */
export const PROMPT_SAMPLE_CHARS = 64 * 1024

/**
 * Estimated prompt tokens of a request body. A small prompt is counted at once (a number); a large one in
 * slices with a yield every ~32k characters (a promise), so it never holds the event loop. At most
 * PROMPT_SAMPLE_CHARS are tokenized: a multi-megabyte prompt costs milliseconds, not a second of CPU.
 */
export function estimatePromptTokens(body: Record<string, unknown>): number | Promise<number> {
  const { texts, tokenIds } = collectTexts(body)
  const messages = Array.isArray(body.messages) ? body.messages.length : 0
  const base = tokenIds + messages * PER_MESSAGE_OVERHEAD
  let chars = 0
  for (const text of texts) chars += text.length
  if (chars > YIELD_EVERY_CHARS) return countSliced(texts, base, chars)
  let tokens = base
  for (const text of texts) tokens += countTextTokens(text)
  return tokens
}

async function countSliced(texts: string[], base: number, totalChars: number): Promise<number> {
  let tokens = 0
  let counted = 0
  let sinceYield = 0
  for (const text of texts) {
    for (let start = 0; start < text.length && counted < PROMPT_SAMPLE_CHARS;) {
      // The last slice stops at the sample's size: at most PROMPT_SAMPLE_CHARS are ever tokenized.
      let end = Math.min(start + SLICE_CHARS, text.length, start + PROMPT_SAMPLE_CHARS - counted)
      if (end < text.length) {
        // Cut at whitespace so a word is not split into two tokenisations.
        const space = text.lastIndexOf(' ', end)
        if (space > start + SLICE_CHARS / 2) end = space
      }
      tokens += countTextTokens(text.slice(start, end))
      counted += end - start
      sinceYield += end - start
      start = end
      if (sinceYield >= YIELD_EVERY_CHARS) {
        sinceYield = 0
        await nextTick()
      }
    }
    if (counted >= PROMPT_SAMPLE_CHARS) break
  }
  const extrapolated = counted > 0 && counted < totalChars ? Math.ceil(tokens * (totalChars / counted)) : tokens
  return base + extrapolated
}
