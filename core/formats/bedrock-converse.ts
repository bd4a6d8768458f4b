/**
 * AWS Bedrock's Converse API (`POST /model/{modelId}/converse` and `/converse-stream`): errors, usage, and the
 * codec between the canonical shape and Converse requests, responses and stream events, both ways. The gateway
 * serves no Converse route to clients: the decode-request and encode-response halves are there for plugins that
 * hold a Converse body (and for round-trip tests).
 *
 * ConverseStream answers in AWS's binary event-stream framing; the bedrock() provider re-frames each message as
 * one SSE event named after its `:event-type` (messageStart, contentBlockDelta, ..., metadata) or, for an error,
 * its `:exception-type`, with the message's JSON payload as data. This codec reads those events.
 */
import type { SSEEvent } from '../types.ts'
import type { ErrorInfo, SSEFrame, TranslateInfo, WireCodec } from './types.ts'
import { statusForType, typeForStatus } from './openai-chat.ts'
import { jsonInstruction } from './anthropic-messages.ts'
import {
  badRequest, budgetForReasoning, emptyUsage, isRecord, mergeUsage, numberOrUndefined, parseArguments,
  type CanonicalMessage, type CanonicalPart, type CanonicalRequest, type CanonicalResponse, type CanonicalStreamEvent,
  type CanonicalUsage, type FinishReason, type ImagePart, type ImageSource, type StreamDecoder, type StreamEncoder, type TextPart,
  type ToolResultPart,
} from './canonical.ts'

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

/** AWS exception names (the `x-amzn-errortype` header, an event stream's `:exception-type`) as error types. */
const TYPE_BY_EXCEPTION: Record<string, string> = {
  validationexception: 'invalid_request_error',
  accessdeniedexception: 'permission_error',
  resourcenotfoundexception: 'not_found_error',
  throttlingexception: 'rate_limit_error',
  servicequotaexceededexception: 'rate_limit_error',
  modeltimeoutexception: 'timeout_error',
  serviceunavailableexception: 'overloaded_error',
  modelnotreadyexception: 'overloaded_error',
  modelerrorexception: 'api_error',
  modelstreamerrorexception: 'api_error',
  internalserverexception: 'api_error',
  expiredtokenexception: 'authentication_error',
  unrecognizedclientexception: 'authentication_error',
  invalidsignatureexception: 'authentication_error',
  incompletesignatureexception: 'authentication_error',
  missingauthenticationtokenexception: 'authentication_error',
}

const EXCEPTION_BY_TYPE: Record<string, string> = {
  invalid_request_error: 'validationException', permission_error: 'accessDeniedException', not_found_error: 'resourceNotFoundException',
  rate_limit_error: 'throttlingException', timeout_error: 'modelTimeoutException', overloaded_error: 'serviceUnavailableException',
  authentication_error: 'accessDeniedException',
}

/** `ValidationException:http://internal.amazon.com/coral/...` → `ValidationException`. */
export function exceptionName(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value) return undefined
  const name = value.split(':', 1)[0]!.trim()
  return name || undefined
}

export function bedrockErrorBody(info: ErrorInfo) {
  return { message: info.message }
}

/**
 * Reads an AWS error body (`{ "message": ... }`, sometimes `Message`). The exception name travels in the
 * `x-amzn-errortype` header, which the provider folds into the body as `__type` (where AWS JSON protocols put it).
 */
export function bedrockErrorInfo(status: number, body: unknown): ErrorInfo {
  const record = isRecord(body) ? body : {}
  const raw = record.message ?? record.Message ?? (isRecord(record.error) ? record.error.message : undefined)
  const message = typeof raw === 'string' && raw ? raw : `upstream returned ${status}`
  const name = exceptionName(record.__type ?? record.code)
  const type = (name && TYPE_BY_EXCEPTION[name.toLowerCase()]) ?? typeForStatus(status)
  return { status, message, type, code: name ?? null, param: null }
}

function streamExceptionFrame(info: ErrorInfo): SSEFrame {
  return { event: EXCEPTION_BY_TYPE[info.type] ?? 'internalServerException', data: JSON.stringify(bedrockErrorBody(info)) }
}

// ---------------------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------------------

/**
 * Converse's TokenUsage counts cache reads and writes apart from `inputTokens` (as Anthropic does); the
 * canonical input is the whole prompt.
 */
export function canonicalUsageFromBedrock(raw: unknown): Partial<CanonicalUsage> | undefined {
  if (!isRecord(raw)) return undefined
  const usage: Partial<CanonicalUsage> = {}
  const input = numberOrUndefined(raw.inputTokens)
  const read = numberOrUndefined(raw.cacheReadInputTokens) ?? 0
  const write = numberOrUndefined(raw.cacheWriteInputTokens) ?? 0
  if (input !== undefined) {
    usage.inputTokens = input + read + write
    usage.cachedTokens = read
    usage.cacheWriteTokens = write
  }
  const output = numberOrUndefined(raw.outputTokens)
  if (output !== undefined) usage.outputTokens = output
  return usage
}

// ---------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------

const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' }

/** Converse takes images as bytes (base64 in JSON) or an S3 object; it fetches no web URL. */
function bedrockImage(source: ImageSource, where: string): Record<string, unknown> {
  if (source.kind === 'url') {
    if (source.url.startsWith('s3://')) {
      const ext = source.url.split(/[?#]/, 1)[0]!.split('.').pop()!.toLowerCase()
      return { image: { format: ext === 'jpg' ? 'jpeg' : ext, source: { s3Location: { uri: source.url } } } }
    }
    throw badRequest(`${where}: Bedrock takes images as base64 data or s3:// URLs, not web URLs`)
  }
  const format = IMAGE_FORMATS[source.mediaType.toLowerCase()]
  if (!format) throw badRequest(`${where}: Bedrock takes png, jpeg, gif or webp images, not ${source.mediaType}`)
  return { image: { format, source: { bytes: source.data } } }
}

function bedrockToolResult(part: ToolResultPart, where: string): Record<string, unknown> {
  const content = part.content.map((p) => (p.type === 'text' ? { text: p.text } : bedrockImage(p.source, where)))
  return { toolResult: { toolUseId: part.toolCallId, content: content.length ? content : [{ text: '' }], status: part.isError ? 'error' : 'success' } }
}

function bedrockBlocks(message: CanonicalMessage, i: number): Record<string, unknown>[] {
  const where = `messages[${i}]`
  const blocks: Record<string, unknown>[] = []
  for (const part of message.content) {
    switch (part.type) {
      case 'text': if (part.text) blocks.push({ text: part.text }); break
      case 'image': blocks.push(bedrockImage(part.source, where)); break
      case 'tool_call': blocks.push({ toolUse: { toolUseId: part.id, name: part.name, input: parseArguments(part.arguments, where) } }); break
      case 'tool_result': blocks.push(bedrockToolResult(part, where)); break
      case 'thinking':
        // Only reasoning the model signed goes back (Claude checks the signature).
        if (part.redacted) blocks.push({ reasoningContent: { redactedContent: part.redacted } })
        else if (part.signature) blocks.push({ reasoningContent: { reasoningText: { text: part.text, signature: part.signature } } })
        break
    }
  }
  return blocks.every((block) => 'reasoningContent' in block) ? [] : blocks
}

type Turn = { role: 'user' | 'assistant'; content: Record<string, unknown>[] }

/** Turns alternate (same-role neighbours merged); tool results lead their user turn, as Claude wants them. */
function bedrockTurns(messages: CanonicalMessage[]): Turn[] {
  const turns: Turn[] = []
  messages.forEach((message, i) => {
    const role = message.role === 'assistant' ? 'assistant' : 'user'
    const blocks = bedrockBlocks(message, i)
    if (!blocks.length) return
    const last = turns[turns.length - 1]
    if (last && last.role === role) last.content.push(...blocks)
    else turns.push({ role, content: blocks })
  })
  for (const turn of turns) if (turn.role === 'user') turn.content.sort((a, b) => Number('toolResult' in b) - Number('toolResult' in a))
  return turns
}

const hasToolBlocks = (turns: Turn[]) => turns.some((turn) => turn.content.some((block) => 'toolUse' in block || 'toolResult' in block))

/** Claude's extended thinking through `additionalModelRequestFields` (a budget of at least 1024, below maxTokens). */
const isClaude = (model: string | undefined) => /claude/i.test(model ?? '')

function claudeThinking(request: CanonicalRequest, turns: Turn[]): { budget: number; maxTokens: number } | undefined {
  const budget = budgetForReasoning(request.reasoning) ?? 0
  if (budget <= 0) return undefined
  const wanted = Math.max(1024, budget)
  const maxTokens = request.maxTokens ?? wanted + 4096
  const fitted = Math.min(wanted, maxTokens - 1)
  // An open tool loop whose assistant turn lacks its signed reasoning is refused with thinking on.
  const last = turns[turns.length - 1]
  const openLoop = last?.role === 'user' && 'toolResult' in (last.content[0] ?? {}) && !('reasoningContent' in (turns[turns.length - 2]?.content[0] ?? {}))
  return fitted < 1024 || openLoop ? undefined : { budget: fitted, maxTokens }
}

/** Encodes a canonical request as a Converse body. The model and the stream choice are in the URL, not the body. */
export function canonicalToBedrockRequest(request: CanonicalRequest): Record<string, unknown> {
  const messages = bedrockTurns(request.messages)
  const body: Record<string, unknown> = { messages }
  const system = request.system.filter((s) => s.length > 0).map((text) => ({ text }))
  const instruction = jsonInstruction(request.responseFormat)
  if (instruction) system.push({ text: instruction })
  if (system.length) body.system = system

  const claude = isClaude(request.model)
  const thinking = claude ? claudeThinking(request, messages) : undefined
  const inference: Record<string, unknown> = {}
  const maxTokens = thinking?.maxTokens ?? request.maxTokens
  if (maxTokens !== undefined) inference.maxTokens = maxTokens
  if (!thinking) {
    if (request.temperature !== undefined) inference.temperature = Math.min(1, Math.max(0, request.temperature))
    // Recent Claude models refuse temperature and top_p together: temperature wins, as on Anthropic's own API.
    if (request.topP !== undefined && !(claude && request.temperature !== undefined)) inference.topP = request.topP
  }
  if (request.stop?.length) inference.stopSequences = request.stop
  if (Object.keys(inference).length) body.inferenceConfig = inference

  const additional: Record<string, unknown> = {}
  if (thinking) additional.thinking = { type: 'enabled', budget_tokens: thinking.budget }
  else if (request.topK !== undefined) additional.top_k = request.topK
  if (Object.keys(additional).length) body.additionalModelRequestFields = additional

  // Converse has no "none" tool choice: the tools are left out instead, unless the history holds tool blocks
  // (then Bedrock requires toolConfig).
  const choice = request.toolChoice
  if (request.tools?.length && (choice?.type !== 'none' || hasToolBlocks(messages))) {
    const toolConfig: Record<string, unknown> = {
      tools: request.tools.map((t) => ({
        toolSpec: { name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: { json: t.parameters ?? { type: 'object', properties: {} } } },
      })),
    }
    if (choice?.type === 'required') toolConfig.toolChoice = { any: {} }
    else if (choice?.type === 'tool') toolConfig.toolChoice = { tool: { name: choice.name } }
    else if (choice?.type === 'auto') toolConfig.toolChoice = { auto: {} }
    body.toolConfig = toolConfig
  }
  return body
}

// ---------------------------------------------------------------------------------------------------------
// Converse bodies into the canonical shape (the other direction: a Converse body a plugin or a test holds)
// ---------------------------------------------------------------------------------------------------------

const MEDIA_TYPES: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' }

function imageFromBedrock(block: Record<string, any>, where: string): ImagePart {
  const image = isRecord(block.image) ? block.image : {}
  const source = isRecord(image.source) ? image.source : {}
  if (typeof source.bytes === 'string') return { type: 'image', source: { kind: 'base64', mediaType: MEDIA_TYPES[String(image.format)] ?? 'image/png', data: source.bytes } }
  if (isRecord(source.s3Location) && typeof source.s3Location.uri === 'string') return { type: 'image', source: { kind: 'url', url: source.s3Location.uri, mediaType: MEDIA_TYPES[String(image.format)] } }
  throw badRequest(`${where}: an image needs source.bytes or source.s3Location`)
}

function partsFromBedrock(content: unknown, where: string): CanonicalPart[] {
  if (!Array.isArray(content)) throw badRequest(`${where}.content must be an array of content blocks`)
  const parts: CanonicalPart[] = []
  content.forEach((block, j) => {
    const at = `${where}.content[${j}]`
    if (!isRecord(block)) throw badRequest(`${at} must be a content block`)
    if (typeof block.text === 'string') parts.push({ type: 'text', text: block.text })
    else if (isRecord(block.image)) parts.push(imageFromBedrock(block, at))
    else if (isRecord(block.toolUse)) {
      parts.push({ type: 'tool_call', id: String(block.toolUse.toolUseId ?? ''), name: String(block.toolUse.name ?? ''), arguments: JSON.stringify(block.toolUse.input ?? {}) })
    } else if (isRecord(block.toolResult)) {
      const result = block.toolResult
      const inner = Array.isArray(result.content) ? result.content : []
      const out: Array<TextPart | ImagePart> = inner.map((item: unknown, k: number) => {
        if (isRecord(item) && typeof item.text === 'string') return { type: 'text' as const, text: item.text }
        if (isRecord(item) && item.json !== undefined) return { type: 'text' as const, text: JSON.stringify(item.json) }
        if (isRecord(item) && isRecord(item.image)) return imageFromBedrock(item, `${at}.toolResult.content[${k}]`)
        throw badRequest(`${at}.toolResult.content[${k}]: only text, json and image results can be translated`)
      })
      parts.push({ type: 'tool_result', toolCallId: String(result.toolUseId ?? ''), content: out, ...(result.status === 'error' ? { isError: true } : {}) })
    } else if (isRecord(block.reasoningContent)) {
      const reasoning = block.reasoningContent
      if (isRecord(reasoning.reasoningText)) parts.push({ type: 'thinking', text: String(reasoning.reasoningText.text ?? ''), ...(typeof reasoning.reasoningText.signature === 'string' ? { signature: reasoning.reasoningText.signature } : {}) })
      else if (typeof reasoning.redactedContent === 'string') parts.push({ type: 'thinking', text: '', redacted: reasoning.redactedContent })
    } else if (!isRecord(block.cachePoint)) {
      throw badRequest(`${at}: '${Object.keys(block)[0] ?? ''}' blocks cannot be translated to this provider`)
    }
  })
  return parts
}

/** Decodes a Converse request body (the model and the stream choice are in the URL: the caller sets them). */
export function bedrockRequestToCanonical(body: Record<string, unknown>): CanonicalRequest {
  if (!Array.isArray(body.messages)) throw badRequest('messages must be an array', 'messages')
  const system = Array.isArray(body.system) ? body.system.filter((b) => isRecord(b) && typeof b.text === 'string').map((b) => String((b as Record<string, unknown>).text)) : []
  const messages: CanonicalMessage[] = []
  body.messages.forEach((message, i) => {
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) throw badRequest(`messages[${i}].role must be user or assistant`)
    messages.push({ role: message.role, content: partsFromBedrock(message.content, `messages[${i}]`) })
  })
  const request: CanonicalRequest = { system, messages, stream: false }
  const inference = isRecord(body.inferenceConfig) ? body.inferenceConfig : {}
  request.maxTokens = numberOrUndefined(inference.maxTokens)
  request.temperature = numberOrUndefined(inference.temperature)
  request.topP = numberOrUndefined(inference.topP)
  if (Array.isArray(inference.stopSequences)) request.stop = inference.stopSequences.filter((x): x is string => typeof x === 'string' && x.length > 0)
  const additional = isRecord(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {}
  request.topK = numberOrUndefined(additional.top_k)
  if (isRecord(additional.thinking) && additional.thinking.type === 'enabled') request.reasoning = { budgetTokens: numberOrUndefined(additional.thinking.budget_tokens), showThinking: true }
  const toolConfig = isRecord(body.toolConfig) ? body.toolConfig : undefined
  if (toolConfig && Array.isArray(toolConfig.tools)) {
    request.tools = toolConfig.tools.filter((t) => isRecord(t) && isRecord(t.toolSpec)).map((t) => {
      const spec = (t as Record<string, any>).toolSpec
      return { name: String(spec.name ?? ''), ...(typeof spec.description === 'string' ? { description: spec.description } : {}), ...(isRecord(spec.inputSchema?.json) ? { parameters: spec.inputSchema.json } : {}) }
    })
    const choice = isRecord(toolConfig.toolChoice) ? toolConfig.toolChoice : undefined
    if (choice?.any) request.toolChoice = { type: 'required' }
    else if (isRecord(choice?.tool)) request.toolChoice = { type: 'tool', name: String(choice.tool.name ?? '') }
    else if (choice?.auto) request.toolChoice = { type: 'auto' }
  }
  return request
}

// ---------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------

const STOP_REASON_IN: Record<string, FinishReason> = {
  end_turn: 'stop', stop_sequence: 'stop', tool_use: 'tool_calls', max_tokens: 'length', model_context_window_exceeded: 'length',
  guardrail_intervened: 'content_filter', content_filtered: 'content_filter', malformed_model_output: 'stop', malformed_tool_use: 'stop',
}

function finishFrom(reason: unknown, sawToolCall: boolean): FinishReason {
  return STOP_REASON_IN[String(reason)] ?? (sawToolCall ? 'tool_calls' : 'stop')
}

/** The stop sequence that ended the answer, where the model reports it (Claude: additionalModelResponseFields). */
function stopSequenceOf(fields: unknown): string | null {
  return isRecord(fields) && typeof fields.stop_sequence === 'string' ? fields.stop_sequence : null
}

/** Decodes a Converse response body. */
export function bedrockResponseToCanonical(body: unknown): CanonicalResponse {
  const message = isRecord(body) && isRecord(body.output) ? body.output.message : undefined
  if (!isRecord(message) || !Array.isArray(message.content)) throw badRequest('upstream response is not a Bedrock Converse response')
  const content: CanonicalResponse['content'] = []
  let calls = 0
  for (const block of message.content) {
    if (!isRecord(block)) continue
    if (typeof block.text === 'string') content.push({ type: 'text', text: block.text })
    else if (isRecord(block.toolUse)) {
      calls++
      content.push({ type: 'tool_call', id: String(block.toolUse.toolUseId ?? ''), name: String(block.toolUse.name ?? ''), arguments: JSON.stringify(block.toolUse.input ?? {}) })
    } else if (isRecord(block.reasoningContent)) {
      const reasoning = block.reasoningContent
      if (isRecord(reasoning.reasoningText)) {
        const signature = reasoning.reasoningText.signature
        content.push({ type: 'thinking', text: String(reasoning.reasoningText.text ?? ''), ...(typeof signature === 'string' ? { signature } : {}) })
      } else if (typeof reasoning.redactedContent === 'string') content.push({ type: 'thinking', text: '', redacted: reasoning.redactedContent })
    }
  }
  const usage = canonicalUsageFromBedrock((body as Record<string, unknown>).usage)
  const record = body as Record<string, unknown>
  return {
    content,
    finishReason: finishFrom(record.stopReason, calls > 0),
    stopSequence: stopSequenceOf(record.additionalModelResponseFields),
    usage: usage ? { ...emptyUsage(), ...usage } : undefined,
  }
}

/** Decodes ConverseStream events (re-framed as SSE by the provider; see the top of this file). */
export function createBedrockStreamDecoder(_info: TranslateInfo): StreamDecoder {
  const toolByBlock = new Map<number, number>()
  let calls = 0
  return (event) => {
    const name = event.event ?? ''
    const json = event.json
    if (!isRecord(json)) return []
    switch (name) {
      case 'messageStart': return [{ type: 'start' }]
      case 'contentBlockStart': {
        const toolUse = isRecord(json.start) ? json.start.toolUse : undefined
        if (!isRecord(toolUse)) return []
        const index = calls++
        toolByBlock.set(Number(json.contentBlockIndex), index)
        return [{ type: 'tool_call_start', index, id: String(toolUse.toolUseId ?? ''), name: String(toolUse.name ?? '') }]
      }
      case 'contentBlockDelta': {
        const delta = isRecord(json.delta) ? json.delta : {}
        if (typeof delta.text === 'string') return delta.text ? [{ type: 'text', text: delta.text }] : []
        if (isRecord(delta.toolUse)) {
          const index = toolByBlock.get(Number(json.contentBlockIndex))
          const input = delta.toolUse.input
          return index !== undefined && typeof input === 'string' && input ? [{ type: 'tool_call_delta', index, arguments: input }] : []
        }
        if (isRecord(delta.reasoningContent)) {
          const reasoning = delta.reasoningContent
          if (typeof reasoning.text === 'string' && reasoning.text) return [{ type: 'thinking', text: reasoning.text }]
          if (typeof reasoning.signature === 'string') return [{ type: 'thinking_signature', signature: reasoning.signature }]
        }
        return []
      }
      case 'messageStop':
        return [{ type: 'finish', reason: finishFrom(json.stopReason, calls > 0), stopSequence: stopSequenceOf(json.additionalModelResponseFields) }]
      case 'metadata': {
        const usage = canonicalUsageFromBedrock(json.usage)
        const out: CanonicalStreamEvent[] = usage ? [{ type: 'usage', usage }] : []
        out.push({ type: 'done' })
        return out
      }
      default: {
        if (!/exception$/i.test(name)) return [] // contentBlockStop, anything new
        const info = bedrockErrorInfo(500, { ...json, __type: name })
        return [{ type: 'error', status: statusForType(info.type), message: info.message, errorType: info.type }]
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The canonical shape as Converse responses and ConverseStream events (the other direction)
// ---------------------------------------------------------------------------------------------------------

const STOP_REASON_OUT: Record<FinishReason, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'content_filtered' }

function stopReasonOf(reason: FinishReason, stopSequence?: string | null): string {
  return reason === 'stop' && stopSequence ? 'stop_sequence' : STOP_REASON_OUT[reason]
}

/** The inverse of canonicalUsageFromBedrock: cache reads and writes counted apart from `inputTokens`. */
export function bedrockUsageFromCanonical(usage: CanonicalUsage): Record<string, number> {
  const input = Math.max(0, usage.inputTokens - usage.cachedTokens - usage.cacheWriteTokens)
  return {
    inputTokens: input,
    outputTokens: usage.outputTokens,
    totalTokens: usage.inputTokens + usage.outputTokens,
    ...(usage.cachedTokens ? { cacheReadInputTokens: usage.cachedTokens } : {}),
    ...(usage.cacheWriteTokens ? { cacheWriteInputTokens: usage.cacheWriteTokens } : {}),
  }
}

function lenientInput(text: string): Record<string, unknown> {
  try {
    return parseArguments(text, 'upstream tool call')
  } catch {
    return { _raw: text }
  }
}

/** Encodes a canonical response as a Converse response body. */
export function canonicalToBedrockResponse(response: CanonicalResponse): Record<string, unknown> {
  const content: Record<string, unknown>[] = []
  for (const part of response.content) {
    if (part.type === 'text') { if (part.text) content.push({ text: part.text }) }
    else if (part.type === 'tool_call') content.push({ toolUse: { toolUseId: part.id, name: part.name, input: lenientInput(part.arguments) } })
    else if (part.redacted) content.push({ reasoningContent: { redactedContent: part.redacted } })
    else content.push({ reasoningContent: { reasoningText: { text: part.text, ...(part.signature ? { signature: part.signature } : {}) } } })
  }
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: stopReasonOf(response.finishReason, response.stopSequence),
    usage: bedrockUsageFromCanonical(response.usage ?? emptyUsage()),
    metrics: { latencyMs: 0 },
  }
}

/** Writes canonical stream events as ConverseStream events (SSE frames named after the event type). */
export function createBedrockStreamEncoder(_info: TranslateInfo): StreamEncoder {
  const usage = emptyUsage()
  let started = false
  let closed = false
  let nextBlock = 0
  let open: { index: number; kind: 'text' | 'thinking' | 'tool' } | undefined
  const blockByTool = new Map<number, number>()
  let finish: { reason: FinishReason; stopSequence?: string | null } | undefined
  let sawToolCall = false

  const frame = (event: string, payload: Record<string, unknown>): SSEFrame => ({ event, data: JSON.stringify(payload) })
  const start = (frames: SSEFrame[]) => {
    if (!started) {
      started = true
      frames.push(frame('messageStart', { role: 'assistant' }))
    }
    return frames
  }
  const closeOpen = (frames: SSEFrame[]) => {
    if (open) frames.push(frame('contentBlockStop', { contentBlockIndex: open.index }))
    open = undefined
    return frames
  }
  const ensure = (frames: SSEFrame[], kind: 'text' | 'thinking') => {
    if (open?.kind !== kind) {
      closeOpen(frames)
      open = { index: nextBlock++, kind }
    }
    return open.index
  }
  const delta = (contentBlockIndex: number, payload: Record<string, unknown>) => frame('contentBlockDelta', { contentBlockIndex, delta: payload })

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
          frames.push(delta(ensure(frames, 'text'), { text: event.text }))
          return frames
        case 'thinking':
          start(frames)
          frames.push(delta(ensure(frames, 'thinking'), { reasoningContent: { text: event.text } }))
          return frames
        case 'thinking_signature':
          if (open?.kind === 'thinking') frames.push(delta(open.index, { reasoningContent: { signature: event.signature } }))
          return frames
        case 'tool_call_start': {
          start(frames)
          closeOpen(frames)
          sawToolCall = true
          open = { index: nextBlock++, kind: 'tool' }
          blockByTool.set(event.index, open.index)
          frames.push(frame('contentBlockStart', { contentBlockIndex: open.index, start: { toolUse: { toolUseId: event.id, name: event.name } } }))
          return frames
        }
        case 'tool_call_delta': {
          const index = blockByTool.get(event.index)
          if (index !== undefined && event.arguments) frames.push(delta(index, { toolUse: { input: event.arguments } }))
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
      frames.push(frame('messageStop', { stopReason: stopReasonOf(reason, finish?.stopSequence) }))
      frames.push(frame('metadata', { usage: bedrockUsageFromCanonical(usage), metrics: { latencyMs: 0 } }))
      return frames
    },
    error(errorInfo) {
      if (closed) return []
      closed = true
      return [streamExceptionFrame(errorInfo)]
    },
  }
  return encoder
}

function streamUsage(event: SSEEvent): Partial<CanonicalUsage> | undefined {
  return event.event === 'metadata' ? canonicalUsageFromBedrock(event.json?.usage) : undefined
}

export const bedrockConverseCodec: WireCodec = {
  format: 'bedrock-converse',
  kind: 'chat',
  errorBody: bedrockErrorBody,
  errorInfo: bedrockErrorInfo,
  streamErrorFrames: (info) => [streamExceptionFrame(info)],
  readUsage: canonicalUsageFromBedrock,
  bodyUsage: (body) => canonicalUsageFromBedrock(isRecord(body) ? body.usage : undefined),
  streamUsage,
  streamDone: (event) => event.event === 'messageStop' || event.event === 'metadata',
  setModel: () => {}, // the model is in the URL
  decodeRequest: bedrockRequestToCanonical,
  encodeRequest: canonicalToBedrockRequest,
  decodeResponse: (body) => bedrockResponseToCanonical(body),
  encodeResponse: (response) => canonicalToBedrockResponse(response),
  streamDecoder: createBedrockStreamDecoder,
  streamEncoder: createBedrockStreamEncoder,
}
