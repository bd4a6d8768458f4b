/**
 * A provider that answers from a script, for testing plugins: text, reasoning, tool calls, usage, failures and
 * delays, streamed or not. It answers in the neutral view, so the gateway encodes its answers in whatever format
 * the client speaks, exactly as it would a real provider's translated answer.
 *
 *   scriptedProvider({ name: 'mock', replies: [{ text: 'Hello there' }, { error: { status: 429 } }] })
 */
import { GatewayError, definePlugin } from '../core/index.ts'
import type { ProviderRequest, ProviderResponse, ResponseView, SluicePlugin, StreamDelta, TokenCounts, WireFormat } from '../core/index.ts'

export interface ScriptedReply {
  /** The assistant's text. Streamed word by word (spaces kept) unless `chunks` says otherwise. */
  text?: string
  /** Stream these pieces instead of splitting `text` by words. */
  chunks?: string[]
  reasoning?: string
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> | string; id?: string }>
  /** Defaults: input = words of the request's messages, output = words of the reply. `false`: report none. */
  usage?: Partial<TokenCounts> | false
  finish?: ResponseView['finishReason']
  /** Fail instead of answering: an upstream error with this status (and message). */
  error?: { status: number; message?: string; retryAfter?: number }
  /** Wait this long before answering (headers included). */
  delayMs?: number
  /** Pause between streamed pieces. */
  chunkDelayMs?: number
  /** Streams only: break off after this many pieces, as a dying connection would. */
  dieAfter?: number
}

export interface ScriptedProviderOptions {
  name?: string
  /** Played in order; the last one repeats. A function picks the reply per call (1-based). */
  replies?: ScriptedReply[] | ((call: number, request: ProviderRequest) => ScriptedReply)
  /** The wire format the provider claims to speak (decides what request body it receives). */
  format?: WireFormat
  models?: string[]
}

export interface ScriptedProvider extends SluicePlugin {
  /** Every request the provider received, in order. */
  readonly calls: ProviderRequest[]
}

const words = (text: string) => text.trim() ? text.trim().split(/\s+/).length : 0

function promptWords(body: Record<string, unknown>): number {
  return words(JSON.stringify(body.messages ?? body.contents ?? body.input ?? '').replace(/[{}[\]",:]/g, ' '))
}

function viewOf(reply: ScriptedReply, request: ProviderRequest): ResponseView {
  const content: ResponseView['content'] = []
  if (reply.reasoning) content.push({ type: 'thinking', text: reply.reasoning })
  const text = reply.text ?? reply.chunks?.join('') ?? ''
  if (text) content.push({ type: 'text', text })
  reply.toolCalls?.forEach((call, i) => {
    const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments)
    content.push({ type: 'tool_call', id: call.id ?? `call_${request.ctx.id}_${i}`, name: call.name, arguments: args })
  })
  const usage: TokenCounts | undefined = reply.usage === false ? undefined
    : { inputTokens: promptWords(request.body), outputTokens: words(text) + words(reply.reasoning ?? ''), cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, ...reply.usage }
  return { id: `scripted-${request.ctx.id}`, model: request.target.model, content, usage, finishReason: reply.finish ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop') }
}

function pieces(reply: ScriptedReply): string[] {
  if (reply.chunks) return reply.chunks
  return (reply.text ?? '').split(/(?<=\s)/).filter(Boolean)
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason) }, { once: true })
  })
}

async function* streamOf(reply: ScriptedReply, view: ResponseView, signal: AbortSignal): AsyncGenerator<StreamDelta> {
  yield { type: 'start', id: view.id, model: view.model }
  if (reply.reasoning) yield { type: 'thinking', text: reply.reasoning }
  let sent = 0
  for (const piece of pieces(reply)) {
    if (reply.dieAfter !== undefined && sent >= reply.dieAfter) throw new GatewayError(502, 'the upstream connection broke', { type: 'api_error', code: 'connection_error', upstream: true })
    if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs, signal)
    yield { type: 'text', text: piece }
    sent++
  }
  let index = 0
  for (const part of view.content) {
    if (part.type !== 'tool_call') continue
    yield { type: 'tool_call_start', index, id: part.id, name: part.name }
    yield { type: 'tool_call_delta', index: index++, arguments: part.arguments }
  }
  if (view.usage) yield { type: 'usage', usage: view.usage }
  yield { type: 'finish', reason: view.finishReason }
}

export function scriptedProvider(options: ScriptedProviderOptions = {}): ScriptedProvider {
  const name = options.name ?? 'scripted'
  const format = options.format ?? 'openai-chat'
  const script = options.replies ?? [{ text: 'Hello from the scripted provider.' }]
  const calls: ProviderRequest[] = []
  const replyFor = (n: number, request: ProviderRequest): ScriptedReply =>
    typeof script === 'function' ? script(n, request) : script[Math.min(n - 1, script.length - 1)] ?? {}

  const plugin = definePlugin(() => ({
    name,
    setup(gw) {
      gw.registerProvider({
        name,
        formats: [format],
        models: options.models ?? ['model'],
        async call(request): Promise<ProviderResponse> {
          calls.push(request)
          const reply = replyFor(calls.length, request)
          if (reply.delayMs) await sleep(reply.delayMs, request.signal)
          if (reply.error) {
            throw new GatewayError(reply.error.status, reply.error.message ?? `upstream answered ${reply.error.status}`, { upstream: true, retryAfter: reply.error.retryAfter })
          }
          const view = viewOf(reply, request)
          const headers = new Headers()
          return request.stream
            ? { status: 200, headers, format, deltas: streamOf(reply, view, request.signal) }
            : { status: 200, headers, format, output: view }
        },
      })
    },
  }))()
  // Not enumerable: a plugin object is strict, and `calls` is the test's, not the gateway's.
  return Object.defineProperty(plugin, 'calls', { value: calls, enumerable: false }) as ScriptedProvider
}
