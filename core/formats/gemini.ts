/**
 * Gemini generateContent: errors, usage, and the codec between the canonical shape and Gemini's wire format
 * (request bodies, GenerateContentResponse bodies, and the `streamGenerateContent?alt=sse` events, each of which
 * is a whole GenerateContentResponse). Gemini is only ever the provider side: clients speak OpenAI or Anthropic.
 */
import type { ErrorInfo, TranslateInfo, WireCodec } from './types.ts'
import { statusForType, typeForStatus } from './openai-chat.ts'
import {
  badRequest, budgetForReasoning, emptyUsage, guessMediaType, isRecord, numberOrUndefined, parseArguments,
  safeId,
  type CanonicalRequest, type CanonicalResponse, type CanonicalStreamEvent, type CanonicalUsage,
  type FinishReason, type ImageSource, type StreamDecoder, type TextPart, type ToolResultPart,
} from './canonical.ts'

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

const STATUS_NAME: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
  413: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
}

export function geminiErrorBody(info: ErrorInfo) {
  const status = STATUS_NAME[info.status] ?? (info.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION')
  return { error: { code: info.status, message: info.message, status } }
}

const TYPE_BY_STATUS_NAME: Record<string, string> = {
  INVALID_ARGUMENT: 'invalid_request_error', FAILED_PRECONDITION: 'invalid_request_error', OUT_OF_RANGE: 'invalid_request_error',
  UNAUTHENTICATED: 'authentication_error', PERMISSION_DENIED: 'permission_error', NOT_FOUND: 'not_found_error',
  RESOURCE_EXHAUSTED: 'rate_limit_error', UNAVAILABLE: 'overloaded_error', DEADLINE_EXCEEDED: 'timeout_error',
  INTERNAL: 'api_error', UNKNOWN: 'api_error', CANCELLED: 'api_error', ABORTED: 'api_error', UNIMPLEMENTED: 'invalid_request_error',
}

/** Reads a Gemini error body (`{ error: { code, message, status, details } }`, sometimes wrapped in an array). */
export function geminiErrorInfo(status: number, body: unknown): ErrorInfo {
  const root = Array.isArray(body) ? body[0] : body
  const error = isRecord(root) && isRecord(root.error) ? root.error : undefined
  const message = typeof error?.message === 'string' ? error.message : `upstream returned ${status}`
  let type = TYPE_BY_STATUS_NAME[String(error?.status)] ?? typeForStatus(status)
  // A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID: say what it is.
  if (Array.isArray(error?.details) && error.details.some((d: any) => d?.reason === 'API_KEY_INVALID')) type = 'authentication_error'
  return { status, message, type, code: typeof error?.status === 'string' ? error.status : null, param: null }
}

// ---------------------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------------------

/**
 * Gemini counts thoughts apart from the candidates and tool-use prompts apart from the prompt; the canonical
 * counts fold them in (OpenAI's meaning): input = prompt + tool-use prompt, output = candidates + thoughts.
 */
export function canonicalUsageFromGemini(raw: unknown): CanonicalUsage | undefined {
  if (!isRecord(raw)) return undefined
  const thoughts = numberOrUndefined(raw.thoughtsTokenCount) ?? 0
  return {
    inputTokens: (numberOrUndefined(raw.promptTokenCount) ?? 0) + (numberOrUndefined(raw.toolUsePromptTokenCount) ?? 0),
    outputTokens: (numberOrUndefined(raw.candidatesTokenCount) ?? 0) + thoughts,
    cachedTokens: numberOrUndefined(raw.cachedContentTokenCount) ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Thought signatures ride inside tool-call ids
// ---------------------------------------------------------------------------------------------------------

// Gemini's thinking models sign their function calls and want the signature back with the call in later
// turns. Clients of other formats only echo the call id, so the signature is carried in the id itself.
const SIGNATURE_MARK = '__ts_'

export function toolIdWithSignature(id: string, signature: unknown): string {
  if (typeof signature !== 'string' || !signature) return id
  return `${id}${SIGNATURE_MARK}${signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`
}

export function signatureFromToolId(id: string): string | undefined {
  const at = id.indexOf(SIGNATURE_MARK)
  if (at < 0) return undefined
  const url = id.slice(at + SIGNATURE_MARK.length)
  const b64 = url.replace(/-/g, '+').replace(/_/g, '/')
  return b64 + '='.repeat((4 - (b64.length % 4)) % 4)
}

// ---------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------

function geminiMedia(source: ImageSource): Record<string, unknown> {
  return source.kind === 'base64'
    ? { inlineData: { mimeType: source.mediaType, data: source.data } }
    // The gateway does no I/O here: Gemini fetches the URL itself (Files API URIs, and public URLs on models that take them).
    : { fileData: { mimeType: source.mediaType ?? guessMediaType(source.url), fileUri: source.url } }
}

function functionResponse(part: ToolResultPart, name: string): Record<string, unknown> {
  const text = part.content.filter((p) => p.type === 'text').map((p) => (p as TextPart).text).join('')
  let response: Record<string, unknown> | undefined
  if (!part.isError) {
    try {
      const parsed = JSON.parse(text)
      if (isRecord(parsed)) response = parsed
    } catch { /* not JSON: wrap the text */ }
  }
  return { functionResponse: { name, response: response ?? (part.isError ? { error: text } : { result: text }) } }
}

/**
 * Encodes a canonical request as a generateContent body. Gemini bodies carry neither the model (it is in the
 * URL) nor the stream flag (the provider picks `:streamGenerateContent?alt=sse` from the request).
 */
export function canonicalToGeminiRequest(request: CanonicalRequest): Record<string, unknown> {
  const nameById = new Map<string, string>()
  const contents: Array<{ role: 'user' | 'model'; parts: Record<string, unknown>[] }> = []
  request.messages.forEach((message, i) => {
    const role = message.role === 'assistant' ? 'model' : 'user'
    const parts: Record<string, unknown>[] = []
    const media: Record<string, unknown>[] = []
    for (const part of message.content) {
      switch (part.type) {
        case 'text': if (part.text) parts.push({ text: part.text }); break
        case 'image': parts.push(geminiMedia(part.source)); break
        case 'tool_call': {
          nameById.set(part.id, part.name)
          const call: Record<string, unknown> = { functionCall: { name: part.name, args: parseArguments(part.arguments, `messages[${i}]`) } }
          const signature = signatureFromToolId(part.id)
          if (signature) call.thoughtSignature = signature
          parts.push(call)
          break
        }
        case 'tool_result': {
          const name = part.name ?? nameById.get(part.toolCallId)
          if (!name) throw badRequest(`messages[${i}]: tool result '${part.toolCallId}' answers no earlier tool call; Gemini needs the function name`)
          parts.push(functionResponse(part, name))
          for (const p of part.content) if (p.type === 'image') media.push(geminiMedia(p.source))
          break
        }
        case 'thinking': break // Gemini's own thoughts are not sent back as text
      }
    }
    parts.push(...media)
    if (!parts.length) return
    const last = contents[contents.length - 1]
    if (last && last.role === role) last.parts.push(...parts)
    else contents.push({ role, parts })
  })

  const body: Record<string, unknown> = { contents }
  const system = request.system.filter((s) => s.length > 0)
  if (system.length) body.systemInstruction = { parts: system.map((text) => ({ text })) }
  if (request.tools?.length) {
    body.tools = [{
      functionDeclarations: request.tools.map((t) => ({
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        // JSON Schema as given (additionalProperties, $ref, ...), not Gemini's OpenAPI subset.
        ...(t.parameters ? { parametersJsonSchema: t.parameters } : {}),
      })),
    }]
    const choice = request.toolChoice
    if (choice) {
      const mode = choice.type === 'none' ? 'NONE' : choice.type === 'auto' ? 'AUTO' : 'ANY'
      body.toolConfig = { functionCallingConfig: { mode, ...(choice.type === 'tool' ? { allowedFunctionNames: [choice.name] } : {}) } }
    }
  }

  const config: Record<string, unknown> = {}
  if (request.temperature !== undefined) config.temperature = request.temperature
  if (request.topP !== undefined) config.topP = request.topP
  if (request.topK !== undefined) config.topK = request.topK
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens
  if (request.stop?.length) config.stopSequences = request.stop.slice(0, 5)
  if (request.seed !== undefined) config.seed = request.seed
  if (request.presencePenalty !== undefined) config.presencePenalty = request.presencePenalty
  if (request.frequencyPenalty !== undefined) config.frequencyPenalty = request.frequencyPenalty
  const format = request.responseFormat
  if (format?.type === 'json_object') config.responseMimeType = 'application/json'
  else if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json'
    if (format.schema) config.responseJsonSchema = format.schema
  }
  const budget = budgetForReasoning(request.reasoning)
  if (budget !== undefined) {
    // Adaptive thinking with no effort is Gemini's dynamic budget (-1). Other budgets stop at 24576, the most
    // Gemini 2.5 Flash takes (a larger one is a 400 there; Pro takes 32768). 0 turns thinking off, which 2.5 Pro refuses.
    const dynamic = request.reasoning?.mode === 'adaptive' && !request.reasoning.effort
    config.thinkingConfig = {
      thinkingBudget: dynamic ? -1 : Math.min(budget, 24576),
      // Only a client that can show thinking gets the thought text back.
      ...(request.reasoning?.showThinking && budget !== 0 ? { includeThoughts: true } : {}),
    }
  }
  if (Object.keys(config).length) body.generationConfig = config
  return body
}

// ---------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------

const FINISH_IN: Record<string, FinishReason> = {
  STOP: 'stop', MAX_TOKENS: 'length', SAFETY: 'content_filter', RECITATION: 'content_filter', BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter', SPII: 'content_filter', IMAGE_SAFETY: 'content_filter', LANGUAGE: 'stop',
  OTHER: 'stop', MALFORMED_FUNCTION_CALL: 'stop', UNEXPECTED_TOOL_CALL: 'stop',
}

function finishFrom(reason: unknown, sawToolCall: boolean): FinishReason {
  const mapped = FINISH_IN[String(reason)] ?? 'stop'
  return mapped === 'stop' && sawToolCall ? 'tool_calls' : mapped
}

/** Decodes a GenerateContentResponse (first candidate). `seed` makes generated tool-call ids unique. */
export function geminiResponseToCanonical(body: unknown, seed = 'gemini'): CanonicalResponse {
  if (!isRecord(body)) throw badRequest('upstream response is not a Gemini GenerateContentResponse')
  const candidate = Array.isArray(body.candidates) ? body.candidates[0] : undefined
  const content: CanonicalResponse['content'] = []
  let calls = 0
  const parts = isRecord(candidate?.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : []
  for (const part of parts) {
    if (!isRecord(part)) continue
    if (typeof part.text === 'string') content.push(part.thought ? { type: 'thinking', text: part.text } : { type: 'text', text: part.text })
    else if (isRecord(part.functionCall)) {
      const fc = part.functionCall
      const id = toolIdWithSignature(typeof fc.id === 'string' && fc.id ? fc.id : safeId('call_', seed, calls), part.thoughtSignature)
      calls++
      content.push({ type: 'tool_call', id, name: String(fc.name ?? ''), arguments: JSON.stringify(fc.args ?? {}) })
    }
  }
  const blocked = !candidate && isRecord(body.promptFeedback) && body.promptFeedback.blockReason
  return {
    id: typeof body.responseId === 'string' ? body.responseId : undefined,
    model: typeof body.modelVersion === 'string' ? body.modelVersion : undefined,
    content,
    finishReason: blocked ? 'content_filter' : finishFrom(candidate?.finishReason, calls > 0),
    usage: canonicalUsageFromGemini(body.usageMetadata) ?? emptyUsage(),
  }
}

/** Decodes `streamGenerateContent?alt=sse` events: each is a GenerateContentResponse holding a delta. */
export function createGeminiStreamDecoder(info: TranslateInfo): StreamDecoder {
  let started = false
  let calls = 0
  return (event) => {
    const json = Array.isArray(event.json) ? event.json[0] : event.json
    if (!isRecord(json)) return []
    if (isRecord(json.error)) {
      const e = geminiErrorInfo(Number(json.error.code) || 500, json)
      return [{ type: 'error', status: Number(json.error.code) || statusForType(e.type), message: e.message, errorType: e.type }]
    }
    const out: CanonicalStreamEvent[] = []
    const usage = canonicalUsageFromGemini(json.usageMetadata)
    if (!started) {
      started = true
      out.push({ type: 'start', id: json.responseId, model: json.modelVersion, usage })
    }
    const candidate = Array.isArray(json.candidates) ? json.candidates[0] : undefined
    const parts = isRecord(candidate?.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : []
    for (const part of parts) {
      if (!isRecord(part)) continue
      if (typeof part.text === 'string' && part.text) out.push({ type: part.thought ? 'thinking' : 'text', text: part.text })
      else if (isRecord(part.functionCall)) {
        const fc = part.functionCall
        const index = calls++
        const id = toolIdWithSignature(typeof fc.id === 'string' && fc.id ? fc.id : safeId('call_', info.id, index), part.thoughtSignature)
        out.push({ type: 'tool_call_start', index, id, name: String(fc.name ?? '') })
        out.push({ type: 'tool_call_delta', index, arguments: JSON.stringify(fc.args ?? {}) })
      }
    }
    if (usage) out.push({ type: 'usage', usage })
    if (candidate?.finishReason) out.push({ type: 'finish', reason: finishFrom(candidate.finishReason, calls > 0) })
    else if (!candidate && isRecord(json.promptFeedback) && json.promptFeedback.blockReason) out.push({ type: 'finish', reason: 'content_filter' })
    return out
  }
}

export const geminiCodec: WireCodec = {
  format: 'gemini',
  kind: 'chat',
  errorBody: geminiErrorBody,
  errorInfo: geminiErrorInfo,
  streamErrorFrames: (info) => [{ data: JSON.stringify(geminiErrorBody(info)) }],
  readUsage: canonicalUsageFromGemini,
  bodyUsage: (body) => canonicalUsageFromGemini(isRecord(body) ? body.usageMetadata : undefined),
  // Every chunk may carry usageMetadata, each a running total: the last one wins.
  streamUsage: (event) => (event.data.includes('"usageMetadata"') ? canonicalUsageFromGemini(event.json?.usageMetadata) : undefined),
  streamDone: (event) => event.data.includes('"finishReason"'),
  setModel: () => {}, // the model is in the URL
  encodeRequest: canonicalToGeminiRequest,
  decodeResponse: (body, info) => geminiResponseToCanonical(body, info.id),
  streamDecoder: createGeminiStreamDecoder,
}
