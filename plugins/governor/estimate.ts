/**
 * A cheap upper-ish estimate of a request's tokens, made before the call so token limits can reserve it:
 * prompt text length / 4 (plus a little per message) and the output the client allows. It walks the message
 * texts once and never tokenizes; the `record` hook settles the difference with the real usage.
 */
import type { RequestContext } from '../../core/types.ts'

const CHARS_PER_TOKEN = 4
const TOKENS_PER_MESSAGE = 4
/** What an image or other non-text part is reserved as. */
const TOKENS_PER_MEDIA_PART = 256

function textChars(content: unknown): { chars: number; media: number } {
  if (typeof content === 'string') return { chars: content.length, media: 0 }
  let chars = 0
  let media = 0
  if (Array.isArray(content)) {
    for (const part of content) {
      if (typeof part === 'string') chars += part.length
      else if (part && typeof part === 'object') {
        const text = (part as any).text
        if (typeof text === 'string') chars += text.length
        else media++
      }
    }
  }
  return { chars, media }
}

/** Prompt tokens, estimated from the body of any inbound API (chat messages, Anthropic `system`, embedding `input`). */
export function estimatePromptTokens(body: Record<string, unknown>): number {
  let chars = 0
  let media = 0
  let messages = 0
  const add = (content: unknown) => {
    const t = textChars(content)
    chars += t.chars
    media += t.media
  }
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      messages++
      if (message && typeof message === 'object') add((message as any).content)
    }
  }
  if (body.system !== undefined) add(body.system)
  if (body.input !== undefined) add(body.input)
  if (typeof body.prompt === 'string') chars += body.prompt.length
  return Math.ceil(chars / CHARS_PER_TOKEN) + messages * TOKENS_PER_MESSAGE + media * TOKENS_PER_MEDIA_PART
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined
}

/** Output tokens the request may use: the client's own cap, else `defaultMaxTokens`; none for embeddings. */
export function estimateOutputTokens(ctx: RequestContext, defaultMaxTokens: number): number {
  if (ctx.api === 'openai-embeddings') return 0
  const body = ctx.body
  return positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens) ?? defaultMaxTokens
}

export function estimateRequestTokens(ctx: RequestContext, defaultMaxTokens: number): number {
  return estimatePromptTokens(ctx.body) + estimateOutputTokens(ctx, defaultMaxTokens)
}
