/**
 * Anthropic Messages: errors, usage, and the codec to and from the canonical shape (requests, responses,
 * SSE events message_start ... message_stop).
 */
import type { SSEEvent } from '../types.ts'
import type { ErrorInfo, SSEFrame, TranslateInfo, WireCodec } from './types.ts'
import { typeForStatus } from './openai-chat.ts'
import {
  badRequest, budgetForReasoning, emptyUsage, isRecord, mergeUsage, numberOrUndefined,
  parseArguments, prefixedId, safeId,
  type CanonicalMessage, type CanonicalPart, type CanonicalRequest, type CanonicalResponse,
  type CanonicalStreamEvent, type CanonicalToolChoice, type CanonicalUsage, type FinishReason,
  type ImagePart, type ImageSource, type StreamDecoder, type StreamEncoder, type TextPart, type ToolResultPart,
} from './canonical.ts'

/** Anthropic requires max_tokens; this is what a request that did not say gets. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

const ANTHROPIC_ERROR_TYPES = new Set([
  'invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error',
  'request_too_large', 'rate_limit_error', 'api_error', 'timeout_error', 'overloaded_error',
])

/** The Anthropic error type for a normalised error: its own type when Anthropic knows it, else by status. */
export function anthropicErrorType(info: Pick<ErrorInfo, 'status' | 'type'>): string {
  if (ANTHROPIC_ERROR_TYPES.has(info.type)) return info.type
  if (info.type === 'insufficient_quota') return 'billing_error'
  switch (info.status) {
    case 400: case 422: return 'invalid_request_error'
    case 401: return 'authentication_error'
    case 402: return 'billing_error'
    case 403: return 'permission_error'
    case 404: return 'not_found_error'
    case 413: return 'request_too_large'
    case 429: return 'rate_limit_error'
    case 503: case 529: return 'overloaded_error'
    case 504: return 'timeout_error'
    default: return info.status >= 500 ? 'api_error' : 'invalid_request_error'
  }
}

export function anthropicErrorBody(info: ErrorInfo) {
  return { type: 'error', error: { type: anthropicErrorType(info), message: info.message } }
}

/** Reads an Anthropic error body (`{ type: 'error', error: { type, message } }`). */
export function anthropicErrorInfo(status: number, body: unknown): ErrorInfo {
  const error = isRecord(body) ? body.error : undefined
  const message = typeof error?.message === 'string' ? error.message : `upstream returned ${status}`
  const type = typeof error?.type === 'string' ? error.type : typeForStatus(status)
  return { status, message, type, code: null, param: null }
}

function statusForAnthropicType(type: string): number {
  switch (type) {
    case 'invalid_request_error': return 400
    case 'authentication_error': return 401
    case 'billing_error': return 402
    case 'permission_error': return 403
    case 'not_found_error': return 404
    case 'request_too_large': return 413
    case 'rate_limit_error': return 429
    case 'timeout_error': return 504
    case 'overloaded_error': return 529
    default: return 500
  }
}

// ---------------------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------------------

/** Anthropic's input_tokens excludes cache reads and writes; the canonical input is the whole prompt. */
export function canonicalUsageFromAnthropic(raw: unknown): Partial<CanonicalUsage> | undefined {
  if (!isRecord(raw)) return undefined
  const usage: Partial<CanonicalUsage> = {}
  const input = numberOrUndefined(raw.input_tokens)
  const read = numberOrUndefined(raw.cache_read_input_tokens) ?? 0
  const write = numberOrUndefined(raw.cache_creation_input_tokens) ?? 0
  if (input !== undefined) {
    usage.inputTokens = input + read + write
    usage.cachedTokens = read
    usage.cacheWriteTokens = write
  }
  const output = numberOrUndefined(raw.output_tokens)
  if (output !== undefined) usage.outputTokens = output
  return usage
}

export function anthropicUsageFromCanonical(usage: CanonicalUsage) {
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedTokens,
  }
}

/** message_start carries the input side; message_delta the cumulative output (and, lately, input) counts. */
function anthropicStreamUsage(event: SSEEvent): Partial<CanonicalUsage> | undefined {
  const name = event.event
  if (name === 'message_start') return canonicalUsageFromAnthropic(event.json?.message?.usage)
  if (name === 'message_delta') return canonicalUsageFromAnthropic(event.json?.usage)
  if (name === undefined && event.data.includes('"usage"')) {
    // Events without an `event:` line: fall back to the type in the data.
    const json = event.json
    if (json?.type === 'message_start') return canonicalUsageFromAnthropic(json.message?.usage)
    if (json?.type === 'message_delta') return canonicalUsageFromAnthropic(json.usage)
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------

function imageFromAnthropic(block: Record<string, any>, where: string): ImagePart {
  const source = block.source
  if (isRecord(source) && source.type === 'base64' && typeof source.data === 'string') {
    return { type: 'image', source: { kind: 'base64', mediaType: String(source.media_type ?? 'image/png'), data: source.data } }
  }
  if (isRecord(source) && source.type === 'url' && typeof source.url === 'string') return { type: 'image', source: { kind: 'url', url: source.url } }
  throw badRequest(`${where}: only base64 and url image sources can be translated to this provider`)
}

function toolResultContent(content: unknown, where: string): Array<TextPart | ImagePart> {
  if (content === undefined || content === null) return []
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  if (!Array.isArray(content)) throw badRequest(`${where}.content must be a string or an array of blocks`)
  return content.map((block, j) => {
    if (isRecord(block) && block.type === 'text') return { type: 'text', text: String(block.text ?? '') } as TextPart
    if (isRecord(block) && block.type === 'image') return imageFromAnthropic(block, `${where}.content[${j}]`)
    throw badRequest(`${where}.content[${j}]: tool results can only carry text and images to this provider`)
  })
}

function contentBlocks(content: unknown, where: string): Array<Record<string, any>> {
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  if (!Array.isArray(content)) throw badRequest(`${where}.content must be a string or an array of blocks`)
  return content.map((block, j) => {
    if (!isRecord(block)) throw badRequest(`${where}.content[${j}] must be an object`)
    return block
  })
}

/** Decodes an Anthropic Messages request body. */
export function anthropicRequestToCanonical(body: Record<string, unknown>): CanonicalRequest {
  if (!Array.isArray(body.messages)) throw badRequest('messages: field required', 'messages')
  const system: string[] = []
  if (typeof body.system === 'string') {
    if (body.system) system.push(body.system)
  } else if (Array.isArray(body.system)) {
    for (const block of body.system) if (isRecord(block) && block.type === 'text') system.push(String(block.text ?? ''))
  }

  const messages: CanonicalMessage[] = body.messages.map((message: unknown, i: number) => {
    const where = `messages.${i}`
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) throw badRequest(`${where}.role must be 'user' or 'assistant'`)
    const parts: CanonicalPart[] = []
    contentBlocks(message.content, where).forEach((block, j) => {
      const at = `${where}.content.${j}`
      switch (block.type) {
        case 'text': parts.push({ type: 'text', text: String(block.text ?? '') }); break
        case 'image': parts.push(imageFromAnthropic(block, at)); break
        case 'tool_use':
          parts.push({ type: 'tool_call', id: String(block.id ?? safeId('toolu_', 'm', i * 100 + j)), name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) })
          break
        case 'tool_result':
          if (typeof block.tool_use_id !== 'string') throw badRequest(`${at}.tool_use_id: field required`)
          parts.push({ type: 'tool_result', toolCallId: block.tool_use_id, content: toolResultContent(block.content, at), ...(block.is_error ? { isError: true } : {}) })
          break
        case 'thinking': parts.push({ type: 'thinking', text: String(block.thinking ?? ''), signature: block.signature }); break
        case 'redacted_thinking': break // opaque to every other provider
        default: throw badRequest(`${at}: '${String(block.type)}' blocks cannot be translated to this provider`)
      }
    })
    return { role: message.role, content: parts }
  })

  const request: CanonicalRequest = { model: typeof body.model === 'string' ? body.model : undefined, system, messages, stream: body.stream === true }
  if (Array.isArray(body.tools) && body.tools.length) {
    request.tools = body.tools.map((tool: any, k: number) => {
      if (!isRecord(tool) || typeof tool.name !== 'string' || (tool.type !== undefined && tool.type !== 'custom')) {
        throw badRequest(`tools.${k}: only client tools (name, description, input_schema) can be translated to this provider`, 'tools')
      }
      return { name: tool.name, description: tool.description, parameters: tool.input_schema }
    })
  }
  const choice = body.tool_choice
  if (isRecord(choice)) {
    const map: Record<string, CanonicalToolChoice> = { auto: { type: 'auto' }, any: { type: 'required' }, none: { type: 'none' } }
    request.toolChoice = choice.type === 'tool' && typeof choice.name === 'string' ? { type: 'tool', name: choice.name } : map[String(choice.type)]
    if (choice.disable_parallel_tool_use === true) request.parallelToolCalls = false
  }
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) request.stop = body.stop_sequences.filter((s): s is string => typeof s === 'string')
  request.temperature = numberOrUndefined(body.temperature)
  request.topP = numberOrUndefined(body.top_p)
  request.topK = numberOrUndefined(body.top_k)
  request.maxTokens = numberOrUndefined(body.max_tokens)
  const thinking = body.thinking
  if (isRecord(thinking) && thinking.type === 'enabled' && typeof thinking.budget_tokens === 'number') request.reasoning = { budgetTokens: thinking.budget_tokens }
  const metadata = body.metadata
  if (isRecord(metadata) && typeof metadata.user_id === 'string') request.user = metadata.user_id
  return request
}

function anthropicImage(source: ImageSource): Record<string, unknown> {
  return source.kind === 'base64'
    ? { type: 'image', source: { type: 'base64', media_type: source.mediaType, data: source.data } }
    : { type: 'image', source: { type: 'url', url: source.url } }
}

const JSON_OBJECT_INSTRUCTION = 'Respond with a single valid JSON object and nothing else: no prose, no code fences.'

function jsonInstruction(format: CanonicalRequest['responseFormat']): string | undefined {
  if (format?.type === 'json_object') return JSON_OBJECT_INSTRUCTION
  if (format?.type === 'json_schema') {
    return `${JSON_OBJECT_INSTRUCTION} It must match this JSON Schema:\n${JSON.stringify(format.schema ?? {})}`
  }
  return undefined
}

/** Encodes a canonical request as an Anthropic Messages body. */
export function canonicalToAnthropicRequest(request: CanonicalRequest): Record<string, unknown> {
  const messages: Array<{ role: 'user' | 'assistant'; content: Record<string, unknown>[] }> = []
  request.messages.forEach((message, i) => {
    const role = message.role === 'assistant' ? 'assistant' : 'user'
    const blocks: Record<string, unknown>[] = []
    for (const part of message.content) {
      switch (part.type) {
        case 'text': if (part.text) blocks.push({ type: 'text', text: part.text }); break
        case 'image': blocks.push(anthropicImage(part.source)); break
        case 'tool_call':
          blocks.push({ type: 'tool_use', id: part.id, name: part.name, input: parseArguments(part.arguments, `messages[${i}]`) })
          break
        case 'tool_result': blocks.push(anthropicToolResult(part)); break
        case 'thinking':
          // Anthropic only takes back thinking it signed itself.
          if (part.signature) blocks.push({ type: 'thinking', thinking: part.text, signature: part.signature })
          break
      }
    }
    if (!blocks.length) return
    const last = messages[messages.length - 1]
    if (last && last.role === role) last.content.push(...blocks)
    else messages.push({ role, content: blocks })
  })
  // Tool results must open the user turn that answers the calls.
  for (const message of messages) {
    if (message.role === 'user') message.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'))
  }

  const body: Record<string, unknown> = { model: request.model, messages }
  const system = request.system.filter((s) => s.length > 0).map((text) => ({ type: 'text', text }))
  const instruction = jsonInstruction(request.responseFormat)
  if (instruction) system.push({ type: 'text', text: instruction })
  if (system.length) body.system = system

  const budget = budgetForReasoning(request.reasoning)
  const thinking = budget !== undefined && budget > 0 ? Math.max(1024, budget) : undefined
  let maxTokens = request.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS
  if (thinking !== undefined) {
    if (maxTokens <= thinking) maxTokens = thinking + (request.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS)
    body.thinking = { type: 'enabled', budget_tokens: thinking }
  }
  body.max_tokens = maxTokens

  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: t.parameters ?? { type: 'object', properties: {} } }))
    const choice = request.toolChoice
    const out: Record<string, unknown> = choice?.type === 'tool' ? { type: 'tool', name: choice.name }
      : choice?.type === 'required' ? { type: 'any' }
      : choice?.type === 'none' ? { type: 'none' }
      : { type: 'auto' }
    if (request.parallelToolCalls === false && out.type !== 'none') out.disable_parallel_tool_use = true
    if (choice || out.disable_parallel_tool_use) body.tool_choice = out
  }
  if (request.stop?.length) body.stop_sequences = request.stop
  // Thinking refuses sampling changes; newer models refuse temperature and top_p together (temperature wins).
  if (thinking === undefined) {
    if (request.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, request.temperature))
    else if (request.topP !== undefined) body.top_p = request.topP
    if (request.topK !== undefined) body.top_k = request.topK
  }
  if (request.user) body.metadata = { user_id: request.user }
  body.stream = request.stream
  return body
}

function anthropicToolResult(part: ToolResultPart): Record<string, unknown> {
  const onlyText = part.content.every((p) => p.type === 'text')
  const content = onlyText
    ? part.content.map((p) => (p as TextPart).text).join('')
    : part.content.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : anthropicImage(p.source)))
  return { type: 'tool_result', tool_use_id: part.toolCallId, content, ...(part.isError ? { is_error: true } : {}) }
}

// ---------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------

const STOP_REASON_IN: Record<string, FinishReason> = {
  end_turn: 'stop', stop_sequence: 'stop', pause_turn: 'stop', tool_use: 'tool_calls', max_tokens: 'length',
  model_context_window_exceeded: 'length', refusal: 'content_filter',
}

export function anthropicStopReason(reason: FinishReason, stopSequence?: string | null): string {
  switch (reason) {
    case 'length': return 'max_tokens'
    case 'tool_calls': return 'tool_use'
    case 'content_filter': return 'refusal'
    default: return stopSequence ? 'stop_sequence' : 'end_turn'
  }
}

/** Decodes an Anthropic message body. */
export function anthropicResponseToCanonical(body: unknown): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.content)) throw badRequest('upstream response is not an Anthropic message')
  const content: CanonicalResponse['content'] = []
  for (const block of body.content) {
    if (!isRecord(block)) continue
    if (block.type === 'text') content.push({ type: 'text', text: String(block.text ?? '') })
    else if (block.type === 'tool_use') content.push({ type: 'tool_call', id: String(block.id), name: String(block.name), arguments: JSON.stringify(block.input ?? {}) })
    else if (block.type === 'thinking') content.push({ type: 'thinking', text: String(block.thinking ?? ''), signature: block.signature })
  }
  const usage = canonicalUsageFromAnthropic(body.usage)
  return {
    id: typeof body.id === 'string' ? body.id : undefined,
    model: typeof body.model === 'string' ? body.model : undefined,
    content,
    finishReason: STOP_REASON_IN[String(body.stop_reason)] ?? 'stop',
    stopSequence: typeof body.stop_sequence === 'string' ? body.stop_sequence : null,
    usage: usage ? mergeUsage(emptyUsage(), usage) : undefined,
  }
}

/**
 * A model's own tool-call arguments: invalid JSON is the model's output, not the gateway's failure, so it is
 * handed over under `_raw` instead of failing the whole response.
 */
function lenientArguments(text: string): Record<string, unknown> {
  try {
    return parseArguments(text, 'upstream tool call')
  } catch {
    return { _raw: text }
  }
}

/** Encodes a canonical response as an Anthropic message body. */
export function canonicalToAnthropicResponse(response: CanonicalResponse, info: TranslateInfo): Record<string, unknown> {
  const content: Record<string, unknown>[] = []
  for (const part of response.content) {
    if (part.type === 'text') { if (part.text) content.push({ type: 'text', text: part.text }) }
    else if (part.type === 'thinking') content.push({ type: 'thinking', thinking: part.text, signature: part.signature ?? '' })
    else content.push({ type: 'tool_use', id: part.id, name: part.name, input: lenientArguments(part.arguments) })
  }
  return {
    id: prefixedId('msg_', info.id),
    type: 'message',
    role: 'assistant',
    model: info.model,
    content,
    stop_reason: anthropicStopReason(response.finishReason, response.stopSequence),
    stop_sequence: response.stopSequence ?? null,
    usage: anthropicUsageFromCanonical(response.usage ?? emptyUsage()),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------------------

/** Decodes Anthropic SSE events. Tool-use blocks are renumbered 0, 1, ... in the order they start. */
export function createAnthropicStreamDecoder(_info: TranslateInfo): StreamDecoder {
  const toolOrdinalByBlock = new Map<number, number>()
  let nextOrdinal = 0
  return (event) => {
    const json = event.json
    if (!isRecord(json)) return []
    switch (json.type ?? event.event) {
      case 'message_start': {
        const message = isRecord(json.message) ? json.message : {}
        return [{ type: 'start', id: message.id, model: message.model, usage: canonicalUsageFromAnthropic(message.usage) }]
      }
      case 'content_block_start': {
        const block = isRecord(json.content_block) ? json.content_block : {}
        const out: CanonicalStreamEvent[] = []
        if (block.type === 'text' && block.text) out.push({ type: 'text', text: String(block.text) })
        else if (block.type === 'thinking' && block.thinking) out.push({ type: 'thinking', text: String(block.thinking) })
        else if (block.type === 'tool_use') {
          const ordinal = nextOrdinal++
          toolOrdinalByBlock.set(Number(json.index), ordinal)
          out.push({ type: 'tool_call_start', index: ordinal, id: String(block.id), name: String(block.name ?? '') })
          if (isRecord(block.input) && Object.keys(block.input).length) out.push({ type: 'tool_call_delta', index: ordinal, arguments: JSON.stringify(block.input) })
        }
        return out
      }
      case 'content_block_delta': {
        const delta = isRecord(json.delta) ? json.delta : {}
        switch (delta.type) {
          case 'text_delta': return delta.text ? [{ type: 'text', text: String(delta.text) }] : []
          case 'thinking_delta': return delta.thinking ? [{ type: 'thinking', text: String(delta.thinking) }] : []
          case 'signature_delta': return [{ type: 'thinking_signature', signature: String(delta.signature ?? '') }]
          case 'input_json_delta': {
            const ordinal = toolOrdinalByBlock.get(Number(json.index))
            return ordinal !== undefined && delta.partial_json ? [{ type: 'tool_call_delta', index: ordinal, arguments: String(delta.partial_json) }] : []
          }
          default: return []
        }
      }
      case 'message_delta': {
        const out: CanonicalStreamEvent[] = []
        const usage = canonicalUsageFromAnthropic(json.usage)
        if (usage) out.push({ type: 'usage', usage })
        const delta = isRecord(json.delta) ? json.delta : {}
        if (delta.stop_reason) out.push({ type: 'finish', reason: STOP_REASON_IN[String(delta.stop_reason)] ?? 'stop', stopSequence: delta.stop_sequence ?? null })
        return out
      }
      case 'message_stop': return [{ type: 'done' }]
      case 'error': {
        const info = anthropicErrorInfo(500, json)
        return [{ type: 'error', status: statusForAnthropicType(info.type), message: info.message, errorType: info.type }]
      }
      default: return [] // ping, content_block_stop, anything new
    }
  }
}

/**
 * Writes canonical stream events as Anthropic SSE events. Blocks are opened and closed in order, as
 * Anthropic sends them: text, thinking and each tool call get their own content block.
 */
export function createAnthropicStreamEncoder(info: TranslateInfo): StreamEncoder {
  const usage = emptyUsage()
  let started = false
  let closed = false
  let nextBlock = 0
  let open: { index: number; kind: 'text' | 'thinking' | 'tool' ; tool?: number } | undefined
  const blockByTool = new Map<number, number>()
  let finish: { reason: FinishReason; stopSequence?: string | null } | undefined
  let sawToolCall = false

  const frame = (event: string, payload: Record<string, unknown>): SSEFrame => ({ event, data: JSON.stringify(payload) })
  const start = (frames: SSEFrame[]) => {
    if (started) return frames
    started = true
    frames.push(frame('message_start', {
      type: 'message_start',
      message: {
        id: prefixedId('msg_', info.id), type: 'message', role: 'assistant', model: info.model, content: [],
        stop_reason: null, stop_sequence: null, usage: { ...anthropicUsageFromCanonical(usage), output_tokens: 0 },
      },
    }))
    frames.push(frame('ping', { type: 'ping' }))
    return frames
  }
  const closeOpen = (frames: SSEFrame[]) => {
    if (open) frames.push(frame('content_block_stop', { type: 'content_block_stop', index: open.index }))
    open = undefined
    return frames
  }
  const openBlock = (frames: SSEFrame[], kind: 'text' | 'thinking' | 'tool', contentBlock: Record<string, unknown>, tool?: number) => {
    closeOpen(frames)
    open = { index: nextBlock++, kind, tool }
    frames.push(frame('content_block_start', { type: 'content_block_start', index: open.index, content_block: contentBlock }))
    return open.index
  }
  const delta = (index: number, payload: Record<string, unknown>) => frame('content_block_delta', { type: 'content_block_delta', index, delta: payload })

  const encoder: StreamEncoder = {
    encode(event) {
      if (closed) return []
      const frames: SSEFrame[] = []
      switch (event.type) {
        case 'start':
          mergeUsage(usage, event.usage)
          return start(frames)
        case 'text':
          start(frames)
          if (open?.kind !== 'text') openBlock(frames, 'text', { type: 'text', text: '' })
          frames.push(delta(open!.index, { type: 'text_delta', text: event.text }))
          return frames
        case 'thinking':
          start(frames)
          if (open?.kind !== 'thinking') openBlock(frames, 'thinking', { type: 'thinking', thinking: '', signature: '' })
          frames.push(delta(open!.index, { type: 'thinking_delta', thinking: event.text }))
          return frames
        case 'thinking_signature':
          if (open?.kind === 'thinking') frames.push(delta(open.index, { type: 'signature_delta', signature: event.signature }))
          return frames
        case 'tool_call_start': {
          start(frames)
          sawToolCall = true
          const index = openBlock(frames, 'tool', { type: 'tool_use', id: event.id, name: event.name, input: {} }, event.index)
          blockByTool.set(event.index, index)
          return frames
        }
        case 'tool_call_delta': {
          // Arguments of a call whose block was already closed (interleaved upstream deltas) still go to
          // that call's block index, which is where SDK accumulators look for them.
          const index = blockByTool.get(event.index)
          if (index !== undefined) frames.push(delta(index, { type: 'input_json_delta', partial_json: event.arguments }))
          return frames
        }
        case 'usage':
          mergeUsage(usage, event.usage)
          return frames
        case 'finish':
          finish = { reason: event.reason, stopSequence: event.stopSequence }
          return closeOpen(frames)
        case 'error':
          return encoder.error({ status: event.status, message: event.message, type: event.errorType })
        default:
          return frames
      }
    },
    end() {
      if (closed) return []
      closed = true
      const frames = closeOpen(start([]))
      const reason = finish?.reason ?? (sawToolCall ? 'tool_calls' : 'stop')
      frames.push(frame('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: anthropicStopReason(reason, finish?.stopSequence), stop_sequence: finish?.stopSequence ?? null },
        usage: anthropicUsageFromCanonical(usage),
      }))
      frames.push(frame('message_stop', { type: 'message_stop' }))
      return frames
    },
    error(errorInfo) {
      if (closed) return []
      closed = true
      return [frame('error', anthropicErrorBody(errorInfo))]
    },
  }
  return encoder
}

export const anthropicMessagesCodec: WireCodec = {
  format: 'anthropic-messages',
  kind: 'chat',
  errorBody: anthropicErrorBody,
  errorInfo: anthropicErrorInfo,
  streamErrorFrames: (info) => [{ event: 'error', data: JSON.stringify(anthropicErrorBody(info)) }],
  readUsage: canonicalUsageFromAnthropic,
  bodyUsage: (body) => canonicalUsageFromAnthropic(isRecord(body) ? body.usage : undefined),
  streamUsage: anthropicStreamUsage,
  streamDone: (event) => event.event === 'message_stop' || event.data.includes('"type":"message_stop"'),
  setModel: (body, model) => { body.model = model },
  decodeRequest: anthropicRequestToCanonical,
  encodeRequest: canonicalToAnthropicRequest,
  decodeResponse: anthropicResponseToCanonical,
  encodeResponse: canonicalToAnthropicResponse,
  streamDecoder: createAnthropicStreamDecoder,
  streamEncoder: createAnthropicStreamEncoder,
}
