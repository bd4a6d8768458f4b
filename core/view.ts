/**
 * The neutral view of responses: a whole response (`ResponseView`) and its deltas (`StreamDelta`), whatever the
 * wire formats. Plugins edit content here once and it works for every client and provider; the gateway decodes
 * into the view only when a plugin asks for it, so passthrough traffic never pays for it.
 */
import { GatewayError } from './errors.ts'
import { codecFor } from './formats/index.ts'
import { emptyUsage, mergeUsage } from './formats/canonical.ts'
import type { ProviderResponse, RequestContext, ResponseView, StreamDelta, StreamHandlers } from './types.ts'
import type { TranslateInfo } from './formats/types.ts'

/** Internal access to a response's body that does not count as a plugin touching it (see `UpstreamResponse`). */
export const PEEK_BODY: unique symbol = Symbol.for('sluice.peekBody') as any

/** The body of a response without marking it as read by a plugin. */
export function peekBody(response: ProviderResponse): unknown {
  const peek = (response as any)[PEEK_BODY]
  return typeof peek === 'function' ? peek.call(response) : response.body
}

const decoded = new WeakMap<ProviderResponse, ResponseView>()

/**
 * A non-stream response in the neutral view: its `output` when one was set, else its body decoded (once).
 * Reading changes nothing; to change what the client gets, set `response.output`.
 */
export function readOutput(response: ProviderResponse, info: TranslateInfo = { model: '', id: 'resp' }): ResponseView {
  if (response.output) return response.output
  let view = decoded.get(response)
  if (!view) {
    const codec = codecFor(response.format)
    if (!codec.decodeResponse) throw new GatewayError(500, `${response.format} responses have no neutral view`, { type: 'api_error' })
    view = codec.decodeResponse(peekBody(response), info)
    decoded.set(response, view)
  }
  return view
}

/** A whole response as the deltas a stream of it would carry, in order. */
export function deltasOf(view: ResponseView): StreamDelta[] {
  const out: StreamDelta[] = [{ type: 'start', id: view.id, model: view.model }]
  let calls = 0
  for (const part of view.content) {
    if (part.type === 'text') out.push({ type: 'text', text: part.text })
    else if (part.type === 'thinking') {
      out.push({ type: 'thinking', text: part.text })
      if (part.signature) out.push({ type: 'thinking_signature', signature: part.signature })
    } else {
      const index = calls++
      out.push({ type: 'tool_call_start', index, id: part.id, name: part.name })
      if (part.arguments) out.push({ type: 'tool_call_delta', index, arguments: part.arguments })
    }
  }
  if (view.usage) out.push({ type: 'usage', usage: view.usage })
  out.push({ type: 'finish', reason: view.finishReason, stopSequence: view.stopSequence })
  return out
}

/**
 * A response in the shape the client asked for: a whole answer (`output` or a body) served as a stream of its
 * deltas to a streaming client, a stream of deltas collected for a client that asked for one answer. So a `call`
 * hook (a cache) may answer either way. Raw SSE bytes are left as they are.
 */
export function shapedFor(stream: boolean, response: ProviderResponse, info: TranslateInfo): ProviderResponse | Promise<ProviderResponse> {
  if (stream ? response.stream !== undefined : response.deltas === undefined && response.stream === undefined) return response // the usual case
  if (stream && !response.stream && !response.deltas && codecFor(response.format).kind === 'chat') {
    return { status: response.status, headers: response.headers, format: response.format, deltas: replayOf(deltasOf(readOutput(response, info))) }
  }
  if (!stream && response.deltas) return collected(response, response.deltas)
  return response
}

/** Marks a stream of deltas that are all there already (a whole answer replayed): the pump writes it in one go. */
export const WHOLE: unique symbol = Symbol('sluice.wholeDeltas')

function replayOf(deltas: StreamDelta[]): AsyncIterable<StreamDelta> & { [WHOLE]: StreamDelta[] } {
  return { [WHOLE]: deltas, async *[Symbol.asyncIterator]() { yield* deltas } }
}

async function collected(response: ProviderResponse, deltas: AsyncIterable<StreamDelta>): Promise<ProviderResponse> {
  const all: StreamDelta[] = []
  for await (const delta of deltas) all.push(delta)
  return { status: response.status, headers: response.headers, format: response.format, output: collectDeltas(all) }
}

/** Folds deltas back into a whole response (consecutive text or thinking deltas join into one part). */
export function collectDeltas(deltas: Iterable<StreamDelta>): ResponseView {
  const view: ResponseView = { content: [], finishReason: 'stop' }
  const calls = new Map<number, { type: 'tool_call'; id: string; name: string; arguments: string }>()
  for (const delta of deltas) {
    const last = view.content[view.content.length - 1]
    switch (delta.type) {
      case 'start':
        view.id ??= delta.id
        view.model ??= delta.model
        if (delta.usage) view.usage = mergeUsage(view.usage ?? emptyUsage(), delta.usage)
        break
      case 'text':
        if (last?.type === 'text') last.text += delta.text
        else view.content.push({ type: 'text', text: delta.text })
        break
      case 'thinking':
        if (last?.type === 'thinking') last.text += delta.text
        else view.content.push({ type: 'thinking', text: delta.text })
        break
      case 'thinking_signature':
        if (last?.type === 'thinking') last.signature = delta.signature
        break
      case 'tool_call_start': {
        const call = { type: 'tool_call' as const, id: delta.id, name: delta.name, arguments: '' }
        calls.set(delta.index, call)
        view.content.push(call)
        break
      }
      case 'tool_call_delta': {
        const call = calls.get(delta.index)
        if (call) call.arguments += delta.arguments
        break
      }
      case 'usage':
        view.usage = mergeUsage(view.usage ?? emptyUsage(), delta.usage)
        break
      case 'finish':
        view.finishReason = delta.reason
        view.stopSequence = delta.stopSequence
        break
      case 'error':
        throw new GatewayError(delta.status, delta.message, { type: delta.errorType })
      case 'done':
        break
    }
  }
  return view
}

/**
 * The `delta`/`flush`/`observe` handlers of one response, applied in plugin order. Held-back deltas are flushed
 * when the content ends — before the `finish` delta, so they land inside the reply — or at the end.
 */
export class DeltaChain {
  #flushed = false

  constructor(
    readonly editors: Array<Pick<StreamHandlers, 'delta' | 'flush'>>,
    readonly observers: Array<NonNullable<StreamHandlers['observe']>>,
    readonly ctx: RequestContext,
  ) {}

  /** Whether any plugin edits deltas (then the response is re-encoded from the view). */
  get edits(): boolean {
    return this.editors.length > 0
  }

  get active(): boolean {
    return this.editors.length > 0 || this.observers.length > 0
  }

  /** One upstream delta through every editor, then the observers; what the client gets. */
  push(delta: StreamDelta): StreamDelta[] {
    if ((delta.type === 'finish' || delta.type === 'done') && !this.#flushed) return this.#observe([...this.#held(), ...this.#edit([delta], 0)])
    return this.#observe(this.#edit([delta], 0))
  }

  /** The upstream ended: whatever the editors still hold (when no `finish` delta flushed it already). */
  end(): StreamDelta[] {
    return this.#flushed ? [] : this.#observe(this.#held())
  }

  /** The editors' held-back deltas, each passed through the editors after it. */
  #held(): StreamDelta[] {
    this.#flushed = true
    const out: StreamDelta[] = []
    for (let i = 0; i < this.editors.length; i++) {
      const held = this.editors[i]!.flush?.(this.ctx)
      if (held?.length) out.push(...this.#edit(held, i + 1))
    }
    return out
  }

  #edit(deltas: StreamDelta[], from: number): StreamDelta[] {
    let current = deltas
    for (let i = from; i < this.editors.length && current.length > 0; i++) {
      const editor = this.editors[i]!
      if (!editor.delta) continue
      const next: StreamDelta[] = []
      for (const delta of current) {
        const result = editor.delta(delta, this.ctx)
        if (result === undefined) next.push(delta)
        else if (result === null) continue
        else if (Array.isArray(result)) next.push(...result)
        else next.push(result)
      }
      current = next
    }
    return current
  }

  #observe(deltas: StreamDelta[]): StreamDelta[] {
    for (const observe of this.observers) for (const delta of deltas) observe(delta, this.ctx)
    return deltas
  }
}
