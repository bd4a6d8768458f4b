/**
 * The texts of a request that a model reads — system prompts, message text, tool results, the arguments of
 * earlier tool calls — read from the neutral view, and written back into it when a rule redacted them. An
 * OpenAI embeddings request has no neutral view: its `input` strings are read and rewritten in the body.
 * Reasoning from earlier turns is left alone: it is the model's own, and Anthropic refuses an edited one.
 */
import { codecFor } from '../../core/index.ts'
import type { RequestContext, RequestView } from '../../core/index.ts'

export interface InputTexts {
  texts: string[]
  /** Replaces the request's texts with these (same order and count). */
  write(texts: string[]): void
}

/** Every text of the view through `map`, in a fixed order; a new view. */
function mapTexts(view: RequestView, map: (text: string) => string): RequestView {
  const system = view.system.map(map)
  const messages = view.messages.map((message) => ({
    ...message,
    content: message.content.map((part) => {
      switch (part.type) {
        case 'text': return { ...part, text: map(part.text) }
        case 'tool_call': return { ...part, arguments: map(part.arguments) }
        case 'tool_result': return { ...part, content: part.content.map((item) => (item.type === 'text' ? { ...item, text: map(item.text) } : item)) }
        default: return part
      }
    }),
  }))
  return { ...view, system, messages }
}

function embeddingTexts(ctx: RequestContext): InputTexts | undefined {
  const input = ctx.body.input
  const list = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((item) => typeof item === 'string') ? (input as string[]) : undefined
  if (!list) return undefined // token arrays: nothing readable
  return {
    texts: list,
    write(texts) {
      ctx.body = { ...ctx.body, input: typeof input === 'string' ? texts[0] : texts }
    },
  }
}

/** The request's texts, or undefined for an API with none to check. */
export function inputTexts(ctx: RequestContext): InputTexts | undefined {
  if (ctx.api === 'openai-embeddings') return embeddingTexts(ctx)
  const codec = codecFor(ctx.api)
  if (codec.kind !== 'chat' || !codec.decodeRequest) return undefined
  const view = ctx.input()
  const texts: string[] = []
  mapTexts(view, (text) => (texts.push(text), text))
  return {
    texts,
    write(replaced) {
      let i = 0
      ctx.setInput(mapTexts(view, () => replaced[i++]!))
    },
  }
}
