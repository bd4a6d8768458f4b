/**
 * Cheap, pre-call token estimates that budgets and rate limits reserve against (the real usage settles the
 * difference afterwards). One input estimate and one output cap per request, whatever reads them, so a field a
 * limiter overlooks cannot be used to ride free: every text counts (messages, system, tools, tool calls and
 * their arguments), and each image counts as a fixed amount instead of its base64 length.
 */
import { outputCapOf } from './formats/limits.ts'
import type { RequestContext, WireFormat } from './types.ts'

const CHARS_PER_TOKEN = 4
/** What one image (or audio/file payload) is reserved as: about a 1-megapixel image on current models. */
export const TOKENS_PER_MEDIA = 1_024
/**
 * Fields that hold inline binary payloads in the wire formats: Anthropic and Gemini `data` (source.data,
 * inlineData.data), OpenAI `image_url` (a string or its `url`), audio `data`, files `file_data`, `b64_json`. Only
 * strings in these positions count as media, whatever their length (a short URL still costs the model a whole
 * image): anywhere else a string is text, whatever it looks like, or a client could pass base64-looking prose off
 * as one image.
 */
const PAYLOAD_FIELDS = new Set(['data', 'image_url', 'url', 'file_data', 'b64_json', 'image'])

const inputEstimates = new WeakMap<RequestContext, number>()

/**
 * Input tokens of any request body: every string's characters (keys of objects included: tool schemas are
 * mostly keys) at ~4 per token, and each inline payload at TOKENS_PER_MEDIA. One walk, no tokenizer.
 */
export function estimateBodyTokens(body: unknown): number {
  let chars = 0
  let media = 0
  const stack: Array<[value: unknown, field: string]> = [[body, '']]
  while (stack.length > 0) {
    const [value, field] = stack.pop()!
    if (typeof value === 'string') {
      if (PAYLOAD_FIELDS.has(field)) media++ // an image by URL costs the model as much as one inline
      else chars += value.length
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push([item, field])
    } else if (value !== null && typeof value === 'object') {
      for (const key in value) {
        chars += key.length
        stack.push([(value as Record<string, unknown>)[key], key])
      }
    }
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + media * TOKENS_PER_MEDIA
}

/** The request's input estimate, computed once and shared by every plugin that asks. */
export function estimateInputTokens(ctx: RequestContext): number {
  let estimate = inputEstimates.get(ctx)
  if (estimate === undefined) {
    estimate = ctx.api === 'openai-embeddings' ? estimateBodyTokens(ctx.body.input) : estimateBodyTokens(ctx.body)
    inputEstimates.set(ctx, estimate)
  }
  return estimate
}

/**
 * Output tokens the request may use, all choices together (`n` counts): the client's own cap, else `fallback`
 * per choice; none for embeddings.
 */
export function outputTokenLimit(ctx: RequestContext, fallback: number): number {
  if (ctx.api === 'openai-embeddings') return 0
  const { cap, answers } = outputCapOf(ctx.body, ctx.api as WireFormat)
  return (cap ?? fallback) * answers
}
