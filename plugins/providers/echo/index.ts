/**
 * The built-in `echo` provider: answers every chat request by repeating the last user message, streamed
 * word by word, with usage. It needs no key and no network, so the default config works anywhere.
 * Tokens are counted as whitespace-separated words (it is a demo provider, not a billing source).
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import type { ProviderRequest, ProviderResponse } from '../../../core/index.ts'

const optionsSchema = z.strictObject({
  name: z.string().min(1).default('echo'),
  /** Pause between streamed words, in ms. */
  delayMs: z.number().int().nonnegative().default(0),
})

export type EchoOptions = z.input<typeof optionsSchema>

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) return content.map((part: any) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : '')).join(' ')
  return ''
}

function countWords(text: string): number {
  const trimmed = text.trim()
  return trimmed ? trimmed.split(/\s+/).length : 0
}

function lastUserText(messages: any[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return textOf(messages[i].content)
  return ''
}

function usageFor(messages: any[], reply: string) {
  const prompt = messages.reduce((sum: number, m: any) => sum + countWords(textOf(m?.content)), 0)
  const completion = countWords(reply)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

function jsonResponse(body: unknown): ProviderResponse {
  const text = JSON.stringify(body)
  return { status: 200, headers: new Headers({ 'content-type': 'application/json' }), format: 'openai-chat', body, text }
}

export const echo = definePlugin((input: EchoOptions = {}) => {
  const options = parseOptions('echo', optionsSchema, input)

  function chat(request: ProviderRequest): ProviderResponse {
    const messages = (request.body.messages as any[]) ?? []
    const reply = lastUserText(messages)
    const id = `chatcmpl-echo-${request.ctx.id}`
    const created = Math.floor(Date.now() / 1000)
    const model = request.target.model
    const usage = usageFor(messages, reply)
    if (!request.stream) {
      return jsonResponse({
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
      })
    }
    const includeUsage = (request.body.stream_options as any)?.include_usage === true
    const words = reply.split(/(?<=\s)/)
    const chunk = (delta: object, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })
    const frames: object[] = [chunk({ role: 'assistant', content: '' }, null)]
    for (const word of words) if (word) frames.push(chunk({ content: word }, null))
    frames.push(chunk({}, 'stop'))
    if (includeUsage) frames.push({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })
    return streamOf(frames, options.delayMs, request.signal)
  }

  function embeddings(request: ProviderRequest): ProviderResponse {
    const inputs = Array.isArray(request.body.input) ? request.body.input : [request.body.input]
    const data = inputs.map((item, index) => ({ object: 'embedding', index, embedding: vectorOf(String(item)) }))
    const tokens = inputs.reduce((sum: number, item) => sum + countWords(String(item)), 0)
    return { ...jsonResponse({ object: 'list', data, model: request.target.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }), format: 'openai-embeddings' }
  }

  return {
    name: options.name,
    options: { ...options },
    setup(gw) {
      gw.registerProvider({
        name: options.name,
        formats: ['openai-chat', 'openai-embeddings'],
        models: ['echo-1'],
        async call(request) {
          return request.format === 'openai-embeddings' ? embeddings(request) : chat(request)
        },
      })
    },
  }
})

/** A deterministic 8-dimensional unit vector from the text (FNV-1a), so equal inputs embed equally. */
function vectorOf(text: string): number[] {
  const vector: number[] = []
  let hash = 0x811c9dc5
  for (let d = 0; d < 8; d++) {
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0
    hash = Math.imul(hash ^ d, 0x01000193) >>> 0
    vector.push((hash / 0xffffffff) * 2 - 1)
  }
  const norm = Math.hypot(...vector) || 1
  return vector.map((v) => v / norm)
}

function streamOf(frames: object[], delayMs: number, signal: AbortSignal): ProviderResponse {
  const encoder = new TextEncoder()
  let index = 0
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (signal.aborted) return controller.error(signal.reason)
      if (index > 0 && delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
      if (index < frames.length) controller.enqueue(encoder.encode(`data: ${JSON.stringify(frames[index++])}\n\n`))
      else if (index++ === frames.length) controller.enqueue(encoder.encode('data: [DONE]\n\n'))
      else controller.close()
    },
  }, { highWaterMark: 0 })
  return { status: 200, headers: new Headers({ 'content-type': 'text/event-stream' }), format: 'openai-chat', stream }
}
