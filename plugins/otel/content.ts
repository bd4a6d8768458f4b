/**
 * Prompt and completion content for `captureContent: true`, in the GenAI conventions' message shapes
 * (`gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions`, recorded as JSON strings),
 * each text cut to a size and passed through the gateway's secret redaction.
 */
import { redactSecrets } from '../../core/index.ts'
import type { RequestView, StreamDelta } from '../../core/index.ts'

type Part =
  | { type: 'text'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  | { type: 'tool_call_response'; id: string; response: string }
  | { type: 'uri' | 'blob'; modality: 'image' }

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[truncated]` : text
}

/** The request's messages and system instructions, as JSON strings (redacted). */
export function inputContent(view: RequestView, max: number): { messages: string; system?: string } {
  const messages = view.messages.map((message) => ({
    role: message.role,
    parts: message.content.map((part): Part => {
      switch (part.type) {
        case 'text': return { type: 'text', content: cut(part.text, max) }
        case 'thinking': return { type: 'reasoning', content: cut(part.text, max) }
        case 'tool_call': return { type: 'tool_call', id: part.id, name: part.name, arguments: cut(part.arguments, max) }
        case 'tool_result': return { type: 'tool_call_response', id: part.toolCallId, response: cut(part.content.map((c) => (c.type === 'text' ? c.text : '[image]')).join(''), max) }
        case 'image': return { type: part.source.kind === 'url' ? 'uri' : 'blob', modality: 'image' }
      }
    }),
  }))
  const system = view.system.length ? redactSecrets(JSON.stringify(view.system.map((text) => ({ type: 'text', content: cut(text, max) })))) : undefined
  return { messages: redactSecrets(JSON.stringify(messages)), system }
}

/** Collects the answer from the deltas the client gets, holding at most `max` characters per part. */
export class OutputCollector {
  #text = ''
  #reasoning = ''
  readonly #calls = new Map<number, { id: string; name: string; arguments: string }>()
  #finish: string | undefined

  constructor(readonly max: number) {}

  add(delta: StreamDelta): void {
    switch (delta.type) {
      case 'text':
        if (this.#text.length <= this.max) this.#text += delta.text
        break
      case 'thinking':
        if (this.#reasoning.length <= this.max) this.#reasoning += delta.text
        break
      case 'tool_call_start':
        this.#calls.set(delta.index, { id: delta.id, name: delta.name, arguments: '' })
        break
      case 'tool_call_delta': {
        const call = this.#calls.get(delta.index)
        if (call && call.arguments.length <= this.max) call.arguments += delta.arguments
        break
      }
      case 'finish':
        this.#finish = delta.reason
        break
    }
  }

  /** `gen_ai.output.messages` as a JSON string (redacted). */
  json(): string {
    const parts: Part[] = []
    if (this.#reasoning) parts.push({ type: 'reasoning', content: cut(this.#reasoning, this.max) })
    if (this.#text) parts.push({ type: 'text', content: cut(this.#text, this.max) })
    for (const call of this.#calls.values()) parts.push({ type: 'tool_call', id: call.id, name: call.name, arguments: cut(call.arguments, this.max) })
    return redactSecrets(JSON.stringify([{ role: 'assistant', parts, finish_reason: this.#finish ?? 'stop' }]))
  }
}
