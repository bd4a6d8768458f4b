/**
 * AWS Bedrock's Converse API (`POST /model/{modelId}/converse` and `/converse-stream`): errors, usage, and the
 * codec from the canonical shape to Converse request bodies and back from its responses. Provider side only: no
 * client calls the gateway in this format.
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
  badRequest, budgetForReasoning, emptyUsage, isRecord, numberOrUndefined, parseArguments,
  type CanonicalMessage, type CanonicalRequest, type CanonicalResponse, type CanonicalStreamEvent, type CanonicalUsage,
  type FinishReason, type ImageSource, type StreamDecoder, type ToolResultPart,
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
function claudeThinking(request: CanonicalRequest, turns: Turn[]): { budget: number; maxTokens: number } | undefined {
  if (!/claude/i.test(request.model ?? '')) return undefined
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

  const thinking = claudeThinking(request, messages)
  const inference: Record<string, unknown> = {}
  const maxTokens = thinking?.maxTokens ?? request.maxTokens
  if (maxTokens !== undefined) inference.maxTokens = maxTokens
  if (!thinking) {
    if (request.temperature !== undefined) inference.temperature = Math.min(1, Math.max(0, request.temperature))
    if (request.topP !== undefined) inference.topP = request.topP
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
  encodeRequest: canonicalToBedrockRequest,
  decodeResponse: (body) => bedrockResponseToCanonical(body),
  streamDecoder: createBedrockStreamDecoder,
}
