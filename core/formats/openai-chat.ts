/**
 * OpenAI Chat Completions: the parts the passthrough path needs (usage, errors, usage-chunk detection), and the
 * codec to and from the canonical shape (requests, responses, stream chunks).
 */
import { createHash } from 'node:crypto'
import type { SSEEvent } from '../types.ts'
import type { ErrorInfo, SSEFrame, TranslateInfo, WireCodec } from './types.ts'
import {
  badRequest, effortForReasoning, emptyUsage, imageSourceFromUrl, dataUrl, isRecord, mergeUsage,
  numberOrUndefined, prefixedId, safeId, stopList,
  type CanonicalMessage, type CanonicalPart, type CanonicalRequest, type CanonicalResponse,
  type CanonicalStreamEvent, type CanonicalToolChoice, type CanonicalUsage, type FinishReason,
  type ImagePart, type ReasoningEffort, type StreamDecoder, type StreamEncoder, type TextPart,
} from './canonical.ts'
import { openaiChatMaxTokens } from './limits.ts'

export function openaiErrorBody(info: ErrorInfo) {
  return { error: { message: info.message, type: info.type, param: info.param ?? null, code: info.code ?? null } }
}

/** Reads an OpenAI error body (`{ error: { message, type, code } }`) or falls back to the status. */
export function openaiErrorInfo(status: number, body: unknown): ErrorInfo {
  const error = (body as any)?.error
  const message = typeof error?.message === 'string' ? error.message
    : typeof error === 'string' ? error
    : `upstream returned ${status}`
  return { status, message, type: typeof error?.type === 'string' ? error.type : typeForStatus(status), code: error?.code ?? null, param: error?.param ?? null }
}

export function typeForStatus(status: number): string {
  if (status === 400 || status === 404 || status === 413 || status === 422) return 'invalid_request_error'
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 429) return 'rate_limit_error'
  if (status === 504) return 'timeout_error'
  return 'api_error'
}

/** The status an OpenAI-style error type stands for (the inverse of typeForStatus; Gemini errors read the same way). */
export function statusForType(type: string): number {
  switch (type) {
    case 'invalid_request_error': return 400
    case 'authentication_error': return 401
    case 'permission_error': return 403
    case 'not_found_error': return 404
    case 'rate_limit_error': return 429
    case 'overloaded_error': return 503
    case 'timeout_error': return 504
    default: return 500
  }
}

// Chunks carry `"usage":null` until the last one; only parse the events that hold a usage object.
const USAGE_OBJECT = /"usage"\s*:\s*\{/

/** The usage-only chunk the gateway asked for on the client's behalf: no choices, a usage object. */
export function isUsageOnlyChunk(event: SSEEvent): boolean {
  if (!USAGE_OBJECT.test(event.data)) return false
  const json = event.json
  return !!json && Array.isArray(json.choices) && json.choices.length === 0
}

// ---------------------------------------------------------------------------------------------------------
// Translation: OpenAI Chat Completions <-> the canonical shape.
// ---------------------------------------------------------------------------------------------------------


function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') return content
  if (content == null) return ''
  if (!Array.isArray(content)) throw badRequest(`${where}: content must be a string or an array of parts`)
  let text = ''
  for (const part of content) {
    if (isRecord(part) && (part.type === 'text' || part.type === 'refusal')) text += String(part.text ?? part.refusal ?? '')
  }
  return text
}

function userParts(content: unknown, where: string): Array<TextPart | ImagePart> {
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  if (!Array.isArray(content)) throw badRequest(`${where}: content must be a string or an array of parts`)
  return content.map((part, j): TextPart | ImagePart => {
    if (!isRecord(part)) throw badRequest(`${where}.content[${j}] must be an object`)
    if (part.type === 'text') return { type: 'text', text: String(part.text ?? '') }
    if (part.type === 'image_url') {
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url
      if (typeof url !== 'string' || !url) throw badRequest(`${where}.content[${j}].image_url.url is required`)
      return { type: 'image', source: imageSourceFromUrl(url) }
    }
    throw badRequest(`${where}.content[${j}]: parts of type '${part.type}' cannot be translated to this provider's format`)
  })
}

const REASONING_EFFORTS = new Set<unknown>(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] satisfies ReasoningEffort[])

function toolChoiceFromOpenAI(value: unknown): CanonicalToolChoice | undefined {
  if (value === 'auto' || value === 'none' || value === 'required') return { type: value }
  if (isRecord(value) && isRecord(value.function) && typeof value.function.name === 'string') return { type: 'tool', name: value.function.name }
  return undefined
}

/** Decodes an OpenAI Chat Completions request body. */
export function openaiChatRequestToCanonical(body: Record<string, unknown>): CanonicalRequest {
  if (!Array.isArray(body.messages)) throw badRequest('messages must be an array', 'messages')
  if (typeof body.n === 'number' && body.n > 1) throw badRequest('n > 1 cannot be translated to this provider', 'n')
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) throw badRequest('audio output cannot be translated to this provider', 'modalities')

  const system: string[] = []
  const messages: CanonicalMessage[] = []
  body.messages.forEach((message: unknown, i: number) => {
    const where = `messages[${i}]`
    if (!isRecord(message)) throw badRequest(`${where} must be an object`)
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(textOf(message.content, where))
        return
      case 'user':
        messages.push({ role: 'user', content: userParts(message.content, where) })
        return
      case 'assistant': {
        const content: CanonicalPart[] = []
        if (typeof message.reasoning_content === 'string' && message.reasoning_content) content.push({ type: 'thinking', text: message.reasoning_content })
        const text = textOf(message.content, where)
        if (text) content.push({ type: 'text', text })
        if (Array.isArray(message.tool_calls)) {
          message.tool_calls.forEach((call: any, k: number) => {
            if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') throw badRequest(`${where}.tool_calls[${k}].function.name is required`)
            content.push({ type: 'tool_call', id: String(call.id ?? safeId('call_', 'm', i * 100 + k)), name: call.function.name, arguments: String(call.function.arguments ?? '') })
          })
        }
        messages.push({ role: 'assistant', content })
        return
      }
      case 'tool': {
        if (typeof message.tool_call_id !== 'string') throw badRequest(`${where}.tool_call_id is required`)
        messages.push({ role: 'tool', content: [{ type: 'tool_result', toolCallId: message.tool_call_id, content: [{ type: 'text', text: textOf(message.content, where) }] }] })
        return
      }
      default:
        throw badRequest(`${where}.role '${String(message.role)}' cannot be translated to this provider`)
    }
  })

  const request: CanonicalRequest = { model: typeof body.model === 'string' ? body.model : undefined, system, messages, stream: body.stream === true }
  if (Array.isArray(body.tools) && body.tools.length) {
    request.tools = body.tools.map((tool: any, k: number) => {
      if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function) || typeof tool.function.name !== 'string') {
        throw badRequest(`tools[${k}]: only function tools can be translated to this provider`, 'tools')
      }
      return { name: tool.function.name, description: tool.function.description, parameters: tool.function.parameters }
    })
  }
  request.toolChoice = toolChoiceFromOpenAI(body.tool_choice)
  if (body.parallel_tool_calls === false) request.parallelToolCalls = false
  const format = body.response_format
  if (isRecord(format)) {
    if (format.type === 'json_object') request.responseFormat = { type: 'json_object' }
    else if (format.type === 'json_schema' && isRecord(format.json_schema)) {
      request.responseFormat = { type: 'json_schema', name: format.json_schema.name, schema: format.json_schema.schema, strict: format.json_schema.strict }
    }
  }
  request.stop = stopList(body.stop)
  request.temperature = numberOrUndefined(body.temperature)
  request.topP = numberOrUndefined(body.top_p)
  request.maxTokens = openaiChatMaxTokens(body)
  request.seed = numberOrUndefined(body.seed)
  request.presencePenalty = numberOrUndefined(body.presence_penalty)
  request.frequencyPenalty = numberOrUndefined(body.frequency_penalty)
  if (REASONING_EFFORTS.has(body.reasoning_effort)) request.reasoning = { effort: body.reasoning_effort as ReasoningEffort }
  if (typeof body.user === 'string') request.user = body.user
  return request
}

// OpenAI refuses tool-call ids over 40 characters ("string too long"). Ids from other clients can be longer
// (Gemini CLI's `<name>__<id>`, thought signatures riding in ids): those become a digest, the same one for the
// call and for its result, so the pair still matches.
const OPENAI_TOOL_ID_MAX = 40

function openaiToolCallId(id: string): string {
  return id.length <= OPENAI_TOOL_ID_MAX ? id : `call_${createHash('sha256').update(id).digest('base64url').slice(0, 32)}`
}

/** Encodes a canonical request as an OpenAI Chat Completions body. */
export function canonicalToOpenAIChatRequest(request: CanonicalRequest): Record<string, unknown> {
  const messages: Record<string, unknown>[] = request.system.map((text) => ({ role: 'system', content: text }))
  for (const message of request.messages) {
    if (message.role === 'assistant') {
      const text = message.content.filter((p) => p.type === 'text').map((p) => (p as TextPart).text).join('')
      const calls = message.content.filter((p) => p.type === 'tool_call')
      // A turn that carried only thinking has nothing this target reads: dropped, never sent empty.
      if (!text && !calls.length) continue
      const out: Record<string, unknown> = { role: 'assistant', content: text || null }
      if (calls.length) out.tool_calls = calls.map((c) => ({ type: 'function', id: openaiToolCallId(c.id), function: { name: c.name, arguments: c.arguments || '{}' } }))
      messages.push(out)
      continue
    }
    // user and tool: tool results become `tool` messages (first, as OpenAI wants them right after the call);
    // images a tool returned and the user's own parts follow in one user message.
    const rest: Array<Record<string, unknown>> = []
    for (const part of message.content) {
      if (part.type === 'tool_result') {
        messages.push({ role: 'tool', tool_call_id: openaiToolCallId(part.toolCallId), content: part.content.filter((p) => p.type === 'text').map((p) => (p as TextPart).text).join('') })
        for (const p of part.content) if (p.type === 'image') rest.push(openaiImagePart(p))
      } else if (part.type === 'text') rest.push({ type: 'text', text: part.text })
      else if (part.type === 'image') rest.push(openaiImagePart(part))
    }
    if (rest.length === 1 && rest[0]!.type === 'text') messages.push({ role: 'user', content: rest[0]!.text })
    else if (rest.length) messages.push({ role: 'user', content: rest })
  }

  const body: Record<string, unknown> = { model: request.model, messages }
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters ?? { type: 'object', properties: {} } },
    }))
    if (request.parallelToolCalls === false) body.parallel_tool_calls = false
  }
  const choice = request.toolChoice
  if (choice) body.tool_choice = choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type
  const format = request.responseFormat
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' }
  else if (format?.type === 'json_schema') {
    body.response_format = { type: 'json_schema', json_schema: { name: format.name ?? 'response', schema: format.schema ?? {}, ...(format.strict !== undefined ? { strict: format.strict } : {}) } }
  }
  if (request.stop) body.stop = request.stop
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  const effort = effortForReasoning(request.reasoning)
  // Reasoning models refuse `max_tokens`; everyone else (and every OpenAI-compatible server) knows it.
  if (request.maxTokens !== undefined) body[effort ? 'max_completion_tokens' : 'max_tokens'] = request.maxTokens
  if (effort) body.reasoning_effort = effort
  if (request.seed !== undefined) body.seed = request.seed
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty
  if (request.user) body.user = request.user
  body.stream = request.stream
  return body
}

function openaiImagePart(part: ImagePart): Record<string, unknown> {
  const url = part.source.kind === 'base64' ? dataUrl(part.source) : part.source.url
  return { type: 'image_url', image_url: { url } }
}

const OPENAI_FINISH: Record<string, FinishReason> = {
  stop: 'stop', length: 'length', tool_calls: 'tool_calls', function_call: 'tool_calls', content_filter: 'content_filter',
}

export function canonicalUsageFromOpenAI(raw: any): CanonicalUsage | undefined {
  if (!isRecord(raw)) return undefined
  return {
    inputTokens: raw.prompt_tokens ?? 0,
    outputTokens: raw.completion_tokens ?? 0,
    cachedTokens: raw.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: raw.completion_tokens_details?.reasoning_tokens ?? 0,
  }
}

export function openaiUsageFromCanonical(usage: CanonicalUsage) {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  }
}

/** Decodes an OpenAI chat.completion body (first choice). */
export function openaiChatResponseToCanonical(body: unknown): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.choices)) throw badRequest('upstream response is not a chat completion')
  const choice = body.choices[0] ?? {}
  const message = isRecord(choice.message) ? choice.message : {}
  const content: CanonicalResponse['content'] = []
  const reasoning = message.reasoning_content ?? message.reasoning
  if (typeof reasoning === 'string' && reasoning) content.push({ type: 'thinking', text: reasoning })
  const text = textOf(message.content, 'choices[0].message') || (typeof message.refusal === 'string' ? message.refusal : '')
  if (text) content.push({ type: 'text', text })
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call: any, k: number) => {
      content.push({ type: 'tool_call', id: String(call?.id ?? safeId('call_', String(body.id ?? ''), k)), name: String(call?.function?.name ?? ''), arguments: String(call?.function?.arguments ?? '') })
    })
  }
  return {
    id: typeof body.id === 'string' ? body.id : undefined,
    model: typeof body.model === 'string' ? body.model : undefined,
    content,
    finishReason: OPENAI_FINISH[choice.finish_reason] ?? (content.some((p) => p.type === 'tool_call') ? 'tool_calls' : 'stop'),
    usage: canonicalUsageFromOpenAI(body.usage),
  }
}

/** Encodes a canonical response as an OpenAI chat.completion body. Reasoning text is not carried. */
export function canonicalToOpenAIChatResponse(response: CanonicalResponse, info: TranslateInfo): Record<string, unknown> {
  const text = response.content.filter((p) => p.type === 'text').map((p) => (p as TextPart).text).join('')
  const calls = response.content.filter((p) => p.type === 'tool_call')
  const message: Record<string, unknown> = { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null, annotations: [] }
  if (calls.length) message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments || '{}' } }))
  return {
    id: prefixedId('chatcmpl-', info.id),
    object: 'chat.completion',
    created: info.created ?? Math.floor(Date.now() / 1000),
    model: info.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: response.finishReason }],
    usage: openaiUsageFromCanonical(response.usage ?? emptyUsage()),
  }
}

/** Decodes OpenAI chat.completion.chunk events. */
export function createOpenAIChatStreamDecoder(info: TranslateInfo): StreamDecoder {
  let started = false
  // (upstream index, id) -> canonical ordinal. Some OpenAI-compatible servers reuse index 0 for every
  // parallel call and tell them apart only by id, so a new id on a known index is a new call.
  const byIndex = new Map<number, { ordinal: number; id: string }>()
  let nextOrdinal = 0
  return (event) => {
    if (event.data === '[DONE]') return [{ type: 'done' }]
    const chunk = event.json
    if (!isRecord(chunk)) return []
    if (isRecord(chunk.error)) {
      const e = openaiErrorInfo(500, chunk)
      return [{ type: 'error', status: statusForType(e.type), message: e.message, errorType: e.type }]
    }
    const out: CanonicalStreamEvent[] = []
    if (!started) {
      started = true
      out.push({ type: 'start', id: chunk.id, model: chunk.model })
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c: any) => (c?.index ?? 0) === 0) : undefined
    const delta = isRecord(choice?.delta) ? choice.delta : undefined
    if (delta) {
      const reasoning = delta.reasoning_content ?? delta.reasoning
      if (typeof reasoning === 'string' && reasoning) out.push({ type: 'thinking', text: reasoning })
      if (typeof delta.content === 'string' && delta.content) out.push({ type: 'text', text: delta.content })
      if (typeof delta.refusal === 'string' && delta.refusal) out.push({ type: 'text', text: delta.refusal })
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) {
          if (!isRecord(call)) continue
          const index = typeof call.index === 'number' ? call.index : 0
          let known = byIndex.get(index)
          if (!known || (typeof call.id === 'string' && call.id && call.id !== known.id)) {
            const id = typeof call.id === 'string' && call.id ? call.id : safeId('call_', info.id, nextOrdinal)
            known = { ordinal: nextOrdinal++, id }
            byIndex.set(index, known)
            out.push({ type: 'tool_call_start', index: known.ordinal, id, name: String(call.function?.name ?? '') })
          }
          const args = call.function?.arguments
          if (typeof args === 'string' && args) out.push({ type: 'tool_call_delta', index: known.ordinal, arguments: args })
        }
      }
    }
    const usage = canonicalUsageFromOpenAI(chunk.usage)
    if (usage) out.push({ type: 'usage', usage })
    if (choice?.finish_reason) out.push({ type: 'finish', reason: OPENAI_FINISH[choice.finish_reason] ?? 'stop' })
    return out
  }
}

/** Writes canonical stream events as OpenAI chat.completion.chunk frames. */
export function createOpenAIChatStreamEncoder(info: TranslateInfo): StreamEncoder {
  const id = prefixedId('chatcmpl-', info.id)
  const created = info.created ?? Math.floor(Date.now() / 1000)
  const usage = emptyUsage()
  let roleSent = false
  let finishSent = false
  let sawToolCall = false
  let closed = false

  const frame = (payload: Record<string, unknown>): SSEFrame => ({ data: JSON.stringify(payload) })
  const chunk = (delta: Record<string, unknown>, finish: FinishReason | null = null): SSEFrame =>
    frame({ id, object: 'chat.completion.chunk', created, model: info.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })
  const role = (frames: SSEFrame[]) => {
    if (!roleSent) {
      roleSent = true
      frames.push(chunk({ role: 'assistant', content: '' }))
    }
    return frames
  }

  const encoder: StreamEncoder = {
    encode(event) {
      if (closed) return []
      switch (event.type) {
        case 'start':
          mergeUsage(usage, event.usage)
          return role([])
        case 'text':
          return [...role([]), chunk({ content: event.text })]
        case 'tool_call_start':
          sawToolCall = true
          return [...role([]), chunk({ tool_calls: [{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }] })]
        case 'tool_call_delta':
          return [chunk({ tool_calls: [{ index: event.index, function: { arguments: event.arguments } }] })]
        case 'usage':
          mergeUsage(usage, event.usage)
          return []
        case 'finish':
          if (finishSent) return []
          finishSent = true
          return [...role([]), chunk({}, event.reason)]
        case 'error':
          return encoder.error({ status: event.status, message: event.message, type: event.errorType })
        default:
          return [] // thinking has no place in a chat completion; `done` waits for end()
      }
    },
    end() {
      if (closed) return []
      closed = true
      const frames = role([])
      if (!finishSent) frames.push(chunk({}, sawToolCall ? 'tool_calls' : 'stop'))
      frames.push(frame({ id, object: 'chat.completion.chunk', created, model: info.model, choices: [], usage: openaiUsageFromCanonical(usage) }))
      frames.push({ data: '[DONE]' })
      return frames
    },
    error(errorInfo) {
      if (closed) return []
      closed = true
      return [{ data: JSON.stringify(openaiErrorBody(errorInfo)) }, { data: '[DONE]' }]
    },
  }
  return encoder
}

export const openaiChatCodec: WireCodec = {
  format: 'openai-chat',
  kind: 'chat',
  errorBody: openaiErrorBody,
  errorInfo: openaiErrorInfo,
  streamErrorFrames: (info) => [{ data: JSON.stringify(openaiErrorBody(info)) }, { data: '[DONE]' }],
  readUsage: canonicalUsageFromOpenAI,
  bodyUsage: (body) => canonicalUsageFromOpenAI((body as any)?.usage),
  streamUsage: (event) => (USAGE_OBJECT.test(event.data) ? canonicalUsageFromOpenAI(event.json?.usage) : undefined),
  streamDone: (event) => event.data === '[DONE]',
  setModel: (body, model) => { body.model = model },
  decodeRequest: openaiChatRequestToCanonical,
  encodeRequest: canonicalToOpenAIChatRequest,
  decodeResponse: openaiChatResponseToCanonical,
  encodeResponse: canonicalToOpenAIChatResponse,
  streamDecoder: createOpenAIChatStreamDecoder,
  streamEncoder: createOpenAIChatStreamEncoder,
}
