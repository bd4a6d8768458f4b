/**
 * Gemini generateContent: errors, usage, and the codec between the canonical shape and Gemini's wire format
 * (request bodies, GenerateContentResponse bodies, and the `streamGenerateContent?alt=sse` events, each of which
 * is a whole GenerateContentResponse). Both sides: Gemini as a provider, and Gemini clients (@google/genai,
 * Gemini CLI) calling `models/{model}:generateContent` / `:streamGenerateContent` / `:countTokens`.
 */
import type { ErrorInfo, SSEFrame, TranslateInfo, WireCodec } from './types.ts'
import { statusForType, typeForStatus } from './openai-chat.ts'
import {
  badRequest, budgetForReasoning, emptyUsage, guessMediaType, isRecord, mergeUsage, numberOrUndefined, parseArguments,
  safeId, stopList,
  type CanonicalMessage, type CanonicalPart, type CanonicalRequest, type CanonicalResponse, type CanonicalResponseFormat,
  type CanonicalStreamEvent, type CanonicalTool, type CanonicalToolChoice, type CanonicalUsage, type FinishReason,
  type ImagePart, type ImageSource, type StreamDecoder, type StreamEncoder, type TextPart, type ThinkingPart,
  type ToolCallPart, type ToolResultPart,
} from './canonical.ts'

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

const STATUS_NAME: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
  413: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED', 529: 'UNAVAILABLE', // 529: Anthropic's "overloaded"
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

/** The id a tool call had before a signature was put into it. */
export function toolIdWithoutSignature(id: string): string {
  const at = id.indexOf(SIGNATURE_MARK)
  return at < 0 ? id : id.slice(0, at)
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
// Requests from Gemini clients (@google/genai, Gemini CLI, curl)
// ---------------------------------------------------------------------------------------------------------

/**
 * A field of a Gemini request object. Google's REST API takes proto field names in lowerCamelCase or
 * snake_case (the SDKs send `inlineData`, Google's own curl samples `inline_data`), so both are read.
 */
export function geminiField(object: Record<string, any>, camelName: string): any {
  return object[camelName] ?? object[camelName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]
}

const SCHEMA_KEYWORDS_IN_SNAKE_CASE: Record<string, string> = {
  any_of: 'anyOf', property_ordering: 'propertyOrdering', min_items: 'minItems', max_items: 'maxItems',
  min_length: 'minLength', max_length: 'maxLength', min_properties: 'minProperties', max_properties: 'maxProperties',
}
// Gemini's Schema carries these int64 counts as JSON strings ("1"); JSON Schema wants numbers.
const SCHEMA_COUNTS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties'])

function schemaType(type: unknown): unknown {
  if (typeof type !== 'string') return type
  const lower = type.toLowerCase()
  return lower === 'type_unspecified' ? undefined : lower
}

/**
 * Gemini's OpenAPI-subset Schema (`parameters`, `responseSchema`) as JSON Schema: lowercase types, numeric
 * counts, `nullable` as a `null` type, `example` as `examples`; Gemini's `propertyOrdering` hint is dropped.
 * Keywords it does not know pass through unchanged.
 */
export function jsonSchemaFromGemini(schema: unknown): unknown {
  if (!isRecord(schema)) return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    const keyword = SCHEMA_KEYWORDS_IN_SNAKE_CASE[key] ?? key
    if (value === undefined || value === null || keyword === 'nullable' || keyword === 'propertyOrdering') continue
    if (keyword === 'type') out.type = schemaType(value)
    else if (keyword === 'properties' && isRecord(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, jsonSchemaFromGemini(property)]))
    } else if (keyword === 'items') out.items = jsonSchemaFromGemini(value)
    else if (keyword === 'anyOf' && Array.isArray(value)) out.anyOf = value.map(jsonSchemaFromGemini)
    else if (SCHEMA_COUNTS.has(keyword)) out[keyword] = Number(value)
    else if (keyword === 'example') out.examples = [value]
    else if (keyword === 'format' && value === 'enum') continue // Gemini's marker for a string enum, not a JSON Schema format
    else out[keyword] = value
  }
  if (out.type === undefined) delete out.type
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null']
    else if (Array.isArray(out.anyOf)) out.anyOf = [...out.anyOf, { type: 'null' }]
  }
  return out
}

/**
 * Gives function calls their canonical ids and pairs each function response with its call. Gemini pairs them
 * by name and order; clients that set ids (Gemini CLI does) pair by id. A call without an id gets one from its
 * position in the conversation, so the same history always yields the same ids.
 */
function createCallLedger() {
  const open: Array<{ clientId?: string; name: string; id: string }> = []
  let calls = 0
  return {
    call(name: string, clientId: unknown, signature: unknown): string {
      const given = typeof clientId === 'string' && clientId ? clientId : undefined
      const base = given ? given.replace(/[^a-zA-Z0-9_-]/g, '_') : safeId('call_', 'gemini', calls)
      calls++
      const id = toolIdWithSignature(base, signature)
      open.push({ clientId: given, name, id })
      return id
    },
    answer(name: string, clientId: unknown): string | undefined {
      let at = typeof clientId === 'string' && clientId ? open.findIndex((call) => call.clientId === clientId) : -1
      if (at < 0) at = open.findIndex((call) => call.name === name)
      return at < 0 ? undefined : open.splice(at, 1)[0]!.id
    },
  }
}
type CallLedger = ReturnType<typeof createCallLedger>

function imageFromInlineData(blob: Record<string, any>, where: string): ImagePart {
  const mediaType = String(geminiField(blob, 'mimeType') ?? '')
  if (!mediaType.startsWith('image/')) throw badRequest(`${where}.inlineData: ${mediaType || 'untyped'} data cannot be translated to this provider; only images can`)
  if (typeof blob.data !== 'string' || !blob.data) throw badRequest(`${where}.inlineData.data is required`)
  return { type: 'image', source: { kind: 'base64', mediaType, data: blob.data } }
}

// Files API uploads and gs:// objects are readable by Gemini alone.
const GEMINI_ONLY_URI = /^(gs:\/\/|https:\/\/generativelanguage\.googleapis\.com\/)/

function imageFromFileData(file: Record<string, any>, where: string): ImagePart {
  const url = geminiField(file, 'fileUri')
  if (typeof url !== 'string' || !url) throw badRequest(`${where}.fileData.fileUri is required`)
  if (GEMINI_ONLY_URI.test(url)) throw badRequest(`${where}.fileData: ${url} can only be read by Gemini; send the image as inlineData`)
  const mediaType = geminiField(file, 'mimeType')
  if (typeof mediaType === 'string' && !mediaType.startsWith('image/')) {
    throw badRequest(`${where}.fileData: ${mediaType} files cannot be translated to this provider; only images can`)
  }
  return { type: 'image', source: { kind: 'url', url, ...(typeof mediaType === 'string' ? { mediaType } : {}) } }
}

function toolCallFromGemini(part: Record<string, any>, call: Record<string, any>, where: string, ledger: CallLedger): ToolCallPart {
  if (typeof call.name !== 'string' || !call.name) throw badRequest(`${where}.functionCall.name is required`)
  const id = ledger.call(call.name, call.id, geminiField(part, 'thoughtSignature'))
  return { type: 'tool_call', id, name: call.name, arguments: JSON.stringify(isRecord(call.args) ? call.args : {}) }
}

// The one-field wrappers tool output usually comes in: Gemini CLI's {output}, this codec's own {result}/{error}.
const TEXT_WRAPPERS = new Set(['output', 'result', 'content'])

/** A function's `response` object as tool-result text: a lone string wrapper unwrapped, anything else as JSON. */
function resultText(response: unknown): { text: string; isError: boolean } {
  if (response === undefined || response === null) return { text: '', isError: false }
  const keys = isRecord(response) ? Object.keys(response) : []
  const only = keys.length === 1 ? (response as Record<string, unknown>)[keys[0]!] : undefined
  if (typeof only === 'string' && keys[0] === 'error') return { text: only, isError: true }
  if (typeof only === 'string' && TEXT_WRAPPERS.has(keys[0]!)) return { text: only, isError: false }
  return { text: JSON.stringify(response), isError: false }
}

/** Images a function response carries in its own `parts` (multimodal function responses). */
function resultImages(parts: unknown, where: string): ImagePart[] {
  if (!Array.isArray(parts)) return []
  return parts.map((part, k) => {
    const at = `${where}.functionResponse.parts[${k}]`
    const inline = isRecord(part) ? geminiField(part, 'inlineData') : undefined
    if (isRecord(inline)) return imageFromInlineData(inline, at)
    const file = isRecord(part) ? geminiField(part, 'fileData') : undefined
    if (isRecord(file)) return imageFromFileData(file, at)
    throw badRequest(`${at}: only inlineData and fileData can be translated to this provider`)
  })
}

function toolResultFromGemini(response: Record<string, any>, where: string, ledger: CallLedger): ToolResultPart {
  const name = String(response.name ?? '')
  const toolCallId = ledger.answer(name, response.id)
  if (!toolCallId) throw badRequest(`${where}.functionResponse: '${name}' answers no earlier functionCall`)
  const { text, isError } = resultText(response.response)
  const content: Array<TextPart | ImagePart> = [{ type: 'text', text }, ...resultImages(response.parts, where)]
  return { type: 'tool_result', toolCallId, name, content, ...(isError ? { isError: true } : {}) }
}

// Parts that only Gemini can act on (its own code execution and server-side tool traffic).
const GEMINI_ONLY_PARTS = ['executableCode', 'codeExecutionResult', 'toolCall', 'toolResponse']

function partFromGemini(part: unknown, role: CanonicalMessage['role'], where: string, ledger: CallLedger): CanonicalPart | undefined {
  if (!isRecord(part)) throw badRequest(`${where} must be an object`)
  if (typeof part.text === 'string') {
    if (part.thought !== true) return { type: 'text', text: part.text }
    const signature = geminiField(part, 'thoughtSignature')
    // Thoughts only mean something in the model's own turns.
    return role === 'assistant' ? { type: 'thinking', text: part.text, ...(typeof signature === 'string' ? { signature } : {}) } : undefined
  }
  const inline = geminiField(part, 'inlineData')
  if (isRecord(inline)) return imageFromInlineData(inline, where)
  const file = geminiField(part, 'fileData')
  if (isRecord(file)) return imageFromFileData(file, where)
  const call = geminiField(part, 'functionCall')
  if (isRecord(call)) return toolCallFromGemini(part, call, where, ledger)
  const response = geminiField(part, 'functionResponse')
  if (isRecord(response)) return toolResultFromGemini(response, where, ledger)
  const geminiOnly = GEMINI_ONLY_PARTS.find((kind) => geminiField(part, kind) !== undefined)
  if (geminiOnly) throw badRequest(`${where}.${geminiOnly} parts cannot be translated to this provider`)
  return undefined // a part with metadata alone (a lone thoughtSignature, videoMetadata) carries nothing to translate
}

function roleFromGemini(role: unknown, where: string): CanonicalMessage['role'] {
  const name = typeof role === 'string' ? role.toLowerCase() : 'user'
  if (name === 'model') return 'assistant'
  // `function` is the role older clients gave turns of function responses.
  if (name === 'user' || name === 'function') return 'user'
  throw badRequest(`${where}.role must be 'user' or 'model'`)
}

function messagesFromGemini(contents: unknown): CanonicalMessage[] {
  if (!Array.isArray(contents)) throw badRequest('contents must be an array', 'contents')
  const ledger = createCallLedger()
  const messages: CanonicalMessage[] = []
  contents.forEach((content, i) => {
    const where = `contents[${i}]`
    if (!isRecord(content) || !Array.isArray(content.parts)) throw badRequest(`${where}.parts must be an array`, 'contents')
    const role = roleFromGemini(content.role, where)
    const parts: CanonicalPart[] = []
    content.parts.forEach((part: unknown, j: number) => {
      const decoded = partFromGemini(part, role, `${where}.parts[${j}]`, ledger)
      if (decoded) parts.push(decoded)
    })
    if (parts.length) messages.push({ role, content: parts })
  })
  return messages
}

function systemFromGemini(instruction: unknown): string[] {
  if (instruction === undefined || instruction === null) return []
  if (typeof instruction === 'string') return instruction ? [instruction] : []
  const parts = Array.isArray(instruction) ? instruction : isRecord(instruction) ? instruction.parts : undefined
  if (!Array.isArray(parts)) throw badRequest('systemInstruction must be a Content with text parts', 'systemInstruction')
  return parts.map((part, j) => {
    if (!isRecord(part) || typeof part.text !== 'string') throw badRequest(`systemInstruction.parts[${j}]: only text can be translated to this provider`, 'systemInstruction')
    return part.text
  }).filter((text) => text.length > 0)
}

function toolFromDeclaration(declaration: unknown, where: string): CanonicalTool {
  if (!isRecord(declaration) || typeof declaration.name !== 'string' || !declaration.name) throw badRequest(`${where}.name is required`, 'tools')
  const jsonSchema = geminiField(declaration, 'parametersJsonSchema')
  const schema = isRecord(jsonSchema) ? jsonSchema : jsonSchemaFromGemini(declaration.parameters)
  return {
    name: declaration.name,
    ...(typeof declaration.description === 'string' ? { description: declaration.description } : {}),
    ...(isRecord(schema) ? { parameters: schema } : {}),
  }
}

function toolsFromGemini(tools: unknown): CanonicalTool[] | undefined {
  if (tools === undefined || tools === null) return undefined
  if (!Array.isArray(tools)) throw badRequest('tools must be an array', 'tools')
  const out: CanonicalTool[] = []
  tools.forEach((tool, k) => {
    if (!isRecord(tool)) throw badRequest(`tools[${k}] must be an object`, 'tools')
    // googleSearch, codeExecution, urlContext, retrieval, fileSearch, googleMaps, ...: run by Google's servers.
    const builtIn = Object.keys(tool).find((kind) => tool[kind] != null && kind !== 'functionDeclarations' && kind !== 'function_declarations')
    if (builtIn) throw badRequest(`tools[${k}].${builtIn}: Gemini's built-in tools cannot be translated to this provider; only functionDeclarations can`, 'tools')
    const declarations = geminiField(tool, 'functionDeclarations') ?? []
    if (!Array.isArray(declarations)) throw badRequest(`tools[${k}].functionDeclarations must be an array`, 'tools')
    declarations.forEach((declaration, j) => out.push(toolFromDeclaration(declaration, `tools[${k}].functionDeclarations[${j}]`)))
  })
  return out.length ? out : undefined
}

function toolChoiceFromGemini(toolConfig: unknown): CanonicalToolChoice | undefined {
  const config = isRecord(toolConfig) ? geminiField(toolConfig, 'functionCallingConfig') : undefined
  if (!isRecord(config)) return undefined
  const allowed = geminiField(config, 'allowedFunctionNames')
  switch (String(config.mode ?? '').toUpperCase()) {
    case 'NONE': return { type: 'none' }
    // Several allowed names have no equivalent elsewhere: any tool is then required.
    case 'ANY': return Array.isArray(allowed) && allowed.length === 1 && typeof allowed[0] === 'string' ? { type: 'tool', name: allowed[0] } : { type: 'required' }
    case 'AUTO': case 'VALIDATED': return { type: 'auto' }
    default: return undefined
  }
}

function responseFormatFromGemini(config: Record<string, any>): CanonicalResponseFormat | undefined {
  const jsonSchema = geminiField(config, 'responseJsonSchema')
  if (isRecord(jsonSchema)) return { type: 'json_schema', schema: jsonSchema }
  const schema = geminiField(config, 'responseSchema')
  if (isRecord(schema)) return { type: 'json_schema', schema: jsonSchemaFromGemini(schema) as Record<string, unknown> }
  return geminiField(config, 'responseMimeType') === 'application/json' ? { type: 'json_object' } : undefined
}

const EFFORT_BY_THINKING_LEVEL: Record<string, 'minimal' | 'low' | 'medium' | 'high'> = { MINIMAL: 'minimal', LOW: 'low', MEDIUM: 'medium', HIGH: 'high' }

function reasoningFromGemini(thinking: unknown): CanonicalRequest['reasoning'] {
  if (!isRecord(thinking)) return undefined
  const effort = EFFORT_BY_THINKING_LEVEL[String(geminiField(thinking, 'thinkingLevel')).toUpperCase()]
  if (effort) return { effort }
  const budget = numberOrUndefined(geminiField(thinking, 'thinkingBudget'))
  if (budget === undefined) return undefined
  // -1 lets Gemini size the budget itself; other providers have no such setting, so they get their middle effort.
  return budget < 0 ? { effort: 'medium' } : { budgetTokens: budget }
}

function applyGenerationConfig(request: CanonicalRequest, config: unknown): void {
  if (config === undefined || config === null) return
  if (!isRecord(config)) throw badRequest('generationConfig must be an object', 'generationConfig')
  const candidates = numberOrUndefined(geminiField(config, 'candidateCount'))
  if (candidates !== undefined && candidates > 1) throw badRequest('generationConfig.candidateCount > 1 cannot be translated to this provider', 'generationConfig.candidateCount')
  const modalities = geminiField(config, 'responseModalities')
  if (Array.isArray(modalities) && modalities.some((m) => String(m).toUpperCase() !== 'TEXT')) {
    throw badRequest('generationConfig.responseModalities: only TEXT output can be translated to this provider', 'generationConfig.responseModalities')
  }
  request.temperature = numberOrUndefined(config.temperature)
  request.topP = numberOrUndefined(geminiField(config, 'topP'))
  request.topK = numberOrUndefined(geminiField(config, 'topK'))
  request.maxTokens = numberOrUndefined(geminiField(config, 'maxOutputTokens'))
  request.stop = stopList(geminiField(config, 'stopSequences'))
  request.seed = numberOrUndefined(config.seed)
  request.presencePenalty = numberOrUndefined(geminiField(config, 'presencePenalty'))
  request.frequencyPenalty = numberOrUndefined(geminiField(config, 'frequencyPenalty'))
  request.responseFormat = responseFormatFromGemini(config)
  request.reasoning = reasoningFromGemini(geminiField(config, 'thinkingConfig'))
}

/**
 * Decodes a generateContent body from a Gemini client. The model and the stream flag are in the URL, not the
 * body: the pipeline fills them in. safetySettings and logprobs are tuning with no equivalent and are dropped.
 */
export function geminiRequestToCanonical(body: Record<string, unknown>): CanonicalRequest {
  if (geminiField(body, 'cachedContent') !== undefined) throw badRequest('cachedContent refers to a Gemini context cache and cannot be translated to this provider', 'cachedContent')
  const request: CanonicalRequest = {
    system: systemFromGemini(geminiField(body, 'systemInstruction')),
    messages: messagesFromGemini(body.contents),
    stream: false,
  }
  request.tools = toolsFromGemini(body.tools)
  request.toolChoice = toolChoiceFromGemini(geminiField(body, 'toolConfig'))
  applyGenerationConfig(request, geminiField(body, 'generationConfig'))
  return request
}

/** The canonical request a `:countTokens` body stands for: `{ contents }`, or `{ generateContentRequest }`. */
export function geminiCountTokensRequest(body: Record<string, unknown>): CanonicalRequest {
  const whole = geminiField(body, 'generateContentRequest')
  return geminiRequestToCanonical(isRecord(whole) ? whole : body)
}

/** A `:countTokens` response body. */
export function geminiCountTokensResponse(totalTokens: number): { totalTokens: number } {
  return { totalTokens }
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

// ---------------------------------------------------------------------------------------------------------
// Responses to Gemini clients
// ---------------------------------------------------------------------------------------------------------

const FINISH_OUT: Record<FinishReason, string> = { stop: 'STOP', length: 'MAX_TOKENS', content_filter: 'SAFETY', tool_calls: 'STOP' }

/** The inverse of canonicalUsageFromGemini: thoughts counted apart from the candidates; zero counts left out, as Gemini does. */
export function geminiUsageFromCanonical(usage: CanonicalUsage): Record<string, number> {
  const out: Record<string, number> = {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: Math.max(0, usage.outputTokens - usage.reasoningTokens),
    totalTokenCount: usage.inputTokens + usage.outputTokens,
  }
  if (usage.cachedTokens) out.cachedContentTokenCount = usage.cachedTokens
  if (usage.reasoningTokens) out.thoughtsTokenCount = usage.reasoningTokens
  return out
}

/** Gemini returns thought parts only to a request that set `thinkingConfig.includeThoughts`. */
function wantsThoughts(info: TranslateInfo): boolean {
  if (!info.request) return true
  const config = geminiField(info.request, 'generationConfig')
  const thinking = isRecord(config) ? geminiField(config, 'thinkingConfig') : undefined
  return isRecord(thinking) && geminiField(thinking, 'includeThoughts') === true
}

function thoughtPart(text: string, signature?: string): Record<string, unknown> {
  return { text, thought: true, ...(signature ? { thoughtSignature: signature } : {}) }
}

/**
 * A model's own tool-call arguments as Gemini's `args` object: invalid JSON is the model's output, not the
 * gateway's failure, so it is handed over under `_raw` (as the Anthropic codec does).
 */
function argsObject(text: string): Record<string, unknown> {
  try {
    return parseArguments(text, 'upstream tool call')
  } catch {
    return { _raw: text }
  }
}

/** A tool call as a functionCall part; a thought signature that rode in the id goes back where Gemini keeps it. */
function functionCallPart(call: Pick<ToolCallPart, 'id' | 'name' | 'arguments'>): Record<string, unknown> {
  const signature = signatureFromToolId(call.id)
  return {
    functionCall: { id: toolIdWithoutSignature(call.id), name: call.name, args: argsObject(call.arguments) },
    ...(signature ? { thoughtSignature: signature } : {}),
  }
}

function geminiResponsePart(part: TextPart | ToolCallPart | ThinkingPart, showThoughts: boolean): Record<string, unknown> | undefined {
  switch (part.type) {
    case 'text': return part.text ? { text: part.text } : undefined
    case 'thinking': return showThoughts ? thoughtPart(part.text, part.signature) : undefined
    case 'tool_call': return functionCallPart(part)
  }
}

/** Encodes a canonical response as a GenerateContentResponse, shaped as Google returns it. */
export function canonicalToGeminiResponse(response: CanonicalResponse, info: TranslateInfo): Record<string, unknown> {
  const showThoughts = wantsThoughts(info)
  const parts: Record<string, unknown>[] = []
  for (const part of response.content) {
    const encoded = geminiResponsePart(part, showThoughts)
    if (encoded) parts.push(encoded)
  }
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: FINISH_OUT[response.finishReason], index: 0 }],
    usageMetadata: geminiUsageFromCanonical(response.usage ?? emptyUsage()),
    modelVersion: info.model,
    responseId: info.id,
  }
}

function isCompleteArguments(text: string): boolean {
  try {
    return isRecord(JSON.parse(text))
  } catch {
    return false
  }
}

/**
 * Writes canonical stream events as Gemini's `alt=sse` stream: each frame a GenerateContentResponse holding
 * the new parts, with no event names. Text and thoughts go out as they come. Gemini never streams partial
 * arguments, so a tool call is held until its arguments are whole (seen at the next call's start) or the
 * upstream finished; the last frame carries finishReason and usageMetadata.
 */
export function createGeminiStreamEncoder(info: TranslateInfo): StreamEncoder {
  const usage = emptyUsage()
  const showThoughts = wantsThoughts(info)
  const held: Array<Pick<ToolCallPart, 'id' | 'name' | 'arguments'>> = []
  const heldByIndex = new Map<number, Pick<ToolCallPart, 'id' | 'name' | 'arguments'>>()
  let finish: FinishReason | undefined
  let closed = false

  const frame = (parts: Record<string, unknown>[], last = false): SSEFrame => ({
    data: JSON.stringify({
      candidates: [{ content: { role: 'model', parts }, ...(last ? { finishReason: FINISH_OUT[finish ?? 'stop'] } : {}), index: 0 }],
      ...(last ? { usageMetadata: geminiUsageFromCanonical(usage) } : {}),
      modelVersion: info.model,
      responseId: info.id,
    }),
  })
  /** The held calls that can go out: in order, while whole (or all of them once the upstream finished). */
  const releaseCalls = (all: boolean): Record<string, unknown>[] => {
    const parts: Record<string, unknown>[] = []
    while (held.length && (all || isCompleteArguments(held[0]!.arguments))) parts.push(functionCallPart(held.shift()!))
    return parts
  }
  const framesOf = (parts: Record<string, unknown>[]): SSEFrame[] => (parts.length ? [frame(parts)] : [])
  const lastFrame = (): SSEFrame[] => {
    closed = true
    return [frame(releaseCalls(true), true)]
  }

  const encoder: StreamEncoder = {
    encode(event: CanonicalStreamEvent) {
      if (closed) return []
      switch (event.type) {
        case 'start':
          mergeUsage(usage, event.usage)
          return []
        case 'text':
          return [...framesOf(releaseCalls(false)), frame([{ text: event.text }])]
        case 'thinking':
          return showThoughts ? [frame([thoughtPart(event.text)])] : []
        case 'thinking_signature':
          return showThoughts ? [frame([thoughtPart('', event.signature)])] : []
        case 'tool_call_start': {
          const released = releaseCalls(false)
          const call = { id: event.id, name: event.name, arguments: '' }
          held.push(call)
          heldByIndex.set(event.index, call)
          return framesOf(released)
        }
        case 'tool_call_delta': {
          const call = heldByIndex.get(event.index)
          if (call) call.arguments += event.arguments
          return []
        }
        case 'usage':
          mergeUsage(usage, event.usage)
          return []
        case 'finish':
          finish = event.reason
          return framesOf(releaseCalls(true))
        case 'done':
          return lastFrame()
        case 'error':
          return encoder.error({ status: event.status, message: event.message, type: event.errorType })
      }
    },
    end() {
      return closed ? [] : lastFrame()
    },
    error(errorInfo) {
      if (closed) return []
      closed = true
      return [{ data: JSON.stringify(geminiErrorBody(errorInfo)) }]
    },
  }
  return encoder
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
  decodeRequest: geminiRequestToCanonical,
  encodeRequest: canonicalToGeminiRequest,
  decodeResponse: (body, info) => geminiResponseToCanonical(body, info.id),
  encodeResponse: canonicalToGeminiResponse,
  streamDecoder: createGeminiStreamDecoder,
  streamEncoder: createGeminiStreamEncoder,
}
