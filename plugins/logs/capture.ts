/**
 * Content for the log, read from the neutral view: the request's messages (`ctx.input()`), and the response's
 * text, reasoning and tool calls as its deltas pass (`observe`, streamed and non-stream alike). Memory stays
 * bounded: the collector stops keeping text past the cap; everything is redacted first, then cut to size.
 */
import { codecFor } from '../../core/index.ts'
import type { RequestContext, RequestView, StreamDelta } from '../../core/index.ts'
import type { MessageEntry, RequestContent, ResponseContent } from './entry.ts'
import type { Redactor } from './redact.ts'

/** Kept beyond the cap while collecting, so a secret cut at the cap is still whole when it is redacted. */
const SLACK = 512

/** Cuts texts to what is left of a shared budget. */
class Budget {
  truncated = false
  constructor(private left: number) {}

  get empty(): boolean {
    return this.left <= 0
  }

  take(text: string): string {
    if (text.length <= this.left) {
      this.left -= text.length
      return text
    }
    const kept = text.slice(0, Math.max(0, this.left))
    this.truncated = true
    this.left = 0
    return `${kept}…[${text.length - kept.length} more characters]`
  }
}

/** Collects a response's content from its deltas, up to `limit` characters per channel. */
export class ResponseCollector {
  text = ''
  reasoning = ''
  finishReason?: string
  readonly calls = new Map<number, { id: string; name: string; arguments: string }>()
  #limit: number
  #cut = false

  constructor(limit: number) {
    this.#limit = limit + SLACK
  }

  observe = (delta: StreamDelta): void => {
    switch (delta.type) {
      case 'text':
        this.text = this.#add(this.text, delta.text)
        break
      case 'thinking':
        this.reasoning = this.#add(this.reasoning, delta.text)
        break
      case 'tool_call_start':
        if (this.calls.size < 64) this.calls.set(delta.index, { id: delta.id, name: delta.name, arguments: '' })
        break
      case 'tool_call_delta': {
        const call = this.calls.get(delta.index)
        if (call) call.arguments = this.#add(call.arguments, delta.arguments)
        break
      }
      case 'finish':
        this.finishReason = delta.reason
        break
    }
  }

  #add(kept: string, more: string): string {
    if (kept.length >= this.#limit) {
      this.#cut = true
      return kept
    }
    const room = this.#limit - kept.length
    if (more.length > room) this.#cut = true
    return kept + (more.length > room ? more.slice(0, room) : more)
  }

  /** The response as logged: redacted, then cut to the cap. */
  content(redact: Redactor, maxChars: number): { response: ResponseContent; truncated: boolean } {
    const budget = new Budget(maxChars)
    const response: ResponseContent = {
      text: budget.take(redact(this.text)),
      toolCalls: [...this.calls.values()].map((call) => ({ id: call.id, name: call.name, arguments: budget.take(redact(call.arguments)) })),
    }
    if (this.reasoning) response.reasoning = budget.take(redact(this.reasoning))
    if (this.finishReason) response.finishReason = this.finishReason
    return { response, truncated: budget.truncated || this.#cut }
  }
}

const PARAMS = ['temperature', 'topP', 'topK', 'maxTokens', 'seed', 'stop', 'toolChoice', 'responseFormat', 'reasoning', 'user'] as const

function messageEntry(message: RequestView['messages'][number], budget: Budget, redact: Redactor): MessageEntry {
  const entry: MessageEntry = { role: message.role }
  const texts: string[] = []
  for (const part of message.content) {
    switch (part.type) {
      case 'text':
        texts.push(part.text)
        break
      case 'image':
        entry.images = (entry.images ?? 0) + 1
        break
      case 'tool_call':
        (entry.toolCalls ??= []).push({ id: part.id, name: part.name, arguments: budget.take(redact(part.arguments)) })
        break
      case 'tool_result': {
        const text = part.content.map((item) => (item.type === 'text' ? item.text : '[image]')).join('\n')
        const result: NonNullable<MessageEntry['toolResults']>[number] = { toolCallId: part.toolCallId, text: budget.take(redact(text)) }
        if (part.name) result.name = part.name
        if (part.isError) result.isError = true
        ;(entry.toolResults ??= []).push(result)
        break
      }
      case 'thinking':
        break // the model's own earlier reasoning: not what was asked
    }
  }
  if (texts.length > 0) entry.text = budget.take(redact(texts.join('\n')))
  return entry
}

/**
 * The request as logged. The most recent messages are kept first (they are what was asked); earlier ones are
 * left out, and counted, once the cap is reached. Undefined for an API with no readable content.
 */
export function requestContent(ctx: RequestContext, redact: Redactor, maxChars: number): { request: RequestContent; truncated: boolean } | undefined {
  const budget = new Budget(maxChars)
  if (ctx.api === 'openai-embeddings') {
    const input = ctx.body?.input
    const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input.filter((item): item is string => typeof item === 'string') : []
    return { request: { messages: [], input: list.map((text) => budget.take(redact(text))) }, truncated: budget.truncated }
  }
  if (codecFor(ctx.api).kind !== 'chat' || !ctx.body || Object.keys(ctx.body).length === 0) return undefined
  let view: RequestView
  try {
    view = ctx.input()
  } catch {
    return undefined // a body the codec refuses: the entry's error says why
  }
  const messages: MessageEntry[] = []
  let index = view.messages.length - 1
  for (; index >= 0 && !budget.empty; index--) messages.push(messageEntry(view.messages[index]!, budget, redact))
  messages.reverse()
  const request: RequestContent = { messages }
  if (index >= 0) {
    request.omittedMessages = index + 1
    budget.truncated = true
  }
  if (view.system.length > 0) request.system = view.system.map((text) => budget.take(redact(text)))
  if (view.tools?.length) request.tools = view.tools.map((tool) => tool.name)
  const params: Record<string, unknown> = {}
  for (const name of PARAMS) if (view[name] !== undefined) params[name] = view[name]
  if (Object.keys(params).length > 0) request.params = params
  return { request, truncated: budget.truncated }
}
