/**
 * OpenAI Responses (`POST /v1/responses`): errors and usage for the passthrough path, and the codec to and from
 * the canonical shape (requests with typed input items, `response` objects, and the typed SSE event sequence).
 *
 * Server-side state (`store`, `previous_response_id`, `include`, ...) is not part of the canonical request: the
 * gateway deals with it before a body is decoded. Hosted tools (web search, file search, ...) run on OpenAI's
 * servers and have no equivalent elsewhere: translating a request that uses them is refused. Client tools other
 * than functions are flattened into function tools every provider takes: a `namespace` tool's members become
 * `<namespace>__<name>` functions, a freeform `custom` tool a function of one string argument `input`. Calls
 * back are turned into the items the client offered (`function_call` with its `namespace`, `custom_tool_call`),
 * read against the tools of the client's request (`TranslateInfo.request`).
 */
import type { SSEEvent } from '../types.ts'
import type { ErrorInfo, SSEFrame, TranslateInfo, WireCodec } from './types.ts'
import { openaiErrorBody, openaiErrorInfo, statusForType } from './openai-chat.ts'
import {
  badRequest, dataUrl, effortForReasoning, emptyUsage, imageSourceFromUrl, isRecord, mergeUsage,
  numberOrUndefined, prefixedId, safeId,
  type CanonicalMessage, type CanonicalPart, type CanonicalRequest, type CanonicalResponse,
  type CanonicalStreamEvent, type CanonicalTool, type CanonicalUsage, type FinishReason,
  type ImagePart, type StreamDecoder, type StreamEncoder, type TextPart, type ThinkingPart, type ToolResultPart,
} from './canonical.ts'

// ---------------------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------------------

/** `usage` of a response object. Input already includes cached tokens, output already includes reasoning. */
export function canonicalUsageFromResponses(raw: unknown): Partial<CanonicalUsage> | undefined {
  if (!isRecord(raw)) return undefined
  const usage: Partial<CanonicalUsage> = {}
  const input = numberOrUndefined(raw.input_tokens)
  const output = numberOrUndefined(raw.output_tokens)
  const cached = numberOrUndefined(raw.input_tokens_details?.cached_tokens)
  const cacheWrite = numberOrUndefined(raw.input_tokens_details?.cache_write_tokens)
  const reasoning = numberOrUndefined(raw.output_tokens_details?.reasoning_tokens)
  if (input !== undefined) usage.inputTokens = input
  if (output !== undefined) usage.outputTokens = output
  if (cached !== undefined) usage.cachedTokens = cached
  if (cacheWrite !== undefined) usage.cacheWriteTokens = cacheWrite
  if (reasoning !== undefined) usage.reasoningTokens = reasoning
  return usage
}

export function responsesUsageFromCanonical(usage: CanonicalUsage) {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens, cache_write_tokens: usage.cacheWriteTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Stream events: which ones end a stream and carry usage, read without parsing
// ---------------------------------------------------------------------------------------------------------

const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed'])
// Only for servers that send no `event:` line. Quotes inside text deltas arrive escaped (\"), so this cannot
// match model output.
const TERMINAL_TYPE = /"type"\s*:\s*"response\.(?:completed|incomplete|failed)"/

function isTerminalEvent(event: SSEEvent): boolean {
  return event.event ? TERMINAL_EVENTS.has(event.event) : TERMINAL_TYPE.test(event.data)
}

function responsesStreamUsage(event: SSEEvent): Partial<CanonicalUsage> | undefined {
  return isTerminalEvent(event) ? canonicalUsageFromResponses(event.json?.response?.usage) : undefined
}

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

/** The codes `response.error.code` may hold (the SDK's ResponseError type). */
const RESPONSE_ERROR_CODES = new Set([
  'server_error', 'rate_limit_exceeded', 'invalid_prompt', 'data_residency_mismatch', 'bio_policy', 'vector_store_timeout',
  'invalid_image', 'invalid_image_format', 'invalid_base64_image', 'invalid_image_url', 'image_too_large', 'image_too_small',
  'image_parse_error', 'image_content_policy_violation', 'invalid_image_mode', 'image_file_too_large',
  'unsupported_image_media_type', 'empty_image_file', 'failed_to_download_image', 'image_file_not_found',
])

function responseErrorCode(info: ErrorInfo): string {
  if (info.code && RESPONSE_ERROR_CODES.has(info.code)) return info.code
  return info.status === 429 ? 'rate_limit_exceeded' : 'server_error'
}

const CLIENT_ERROR_CODE = /^(?:invalid_|image_|empty_image|unsupported_image|failed_to_download|bio_policy|data_residency)/

/** Reads the `error` stream event (flat as the SDK types it, or nested as some servers send it) or `response.failed`. */
function streamErrorOf(json: Record<string, any>): Extract<CanonicalStreamEvent, { type: 'error' }> {
  const error = isRecord(json.error) ? json.error : isRecord(json.response?.error) ? json.response.error : json
  const message = typeof error.message === 'string' ? error.message : 'the upstream response failed'
  const code = typeof error.code === 'string' ? error.code : ''
  const type = typeof error.type === 'string' && error.type !== 'error' ? error.type : ''
  if (/rate_limit|too_many_requests/.test(`${code} ${type}`)) return { type: 'error', status: 429, message, errorType: 'rate_limit_error' }
  if (type && statusForType(type) !== 500) return { type: 'error', status: statusForType(type), message, errorType: type }
  if (CLIENT_ERROR_CODE.test(code)) return { type: 'error', status: 400, message, errorType: 'invalid_request_error' }
  return { type: 'error', status: 500, message, errorType: type || 'api_error' }
}

/** The `error` event, flat as the SDK types it. */
function errorEventPayload(info: ErrorInfo) {
  return { code: info.code ?? info.type, message: info.message, param: info.param ?? null }
}

// ---------------------------------------------------------------------------------------------------------
// Client tools: function, custom and namespace tools under names every provider accepts
// ---------------------------------------------------------------------------------------------------------

type Item = Record<string, any>

/** What a canonical tool name stands for among the tools the client offered. */
export interface ClientToolRef {
  kind: 'function' | 'custom'
  /** The name the client knows (inside its namespace, if any). */
  name: string
  namespace?: string
}

/**
 * A tool name every target takes: Anthropic and OpenAI chat want `^[a-zA-Z0-9_-]{1,64}$`, Gemini also a
 * leading letter or underscore.
 */
const PORTABLE_NAME = /^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/

/** `<namespace>__<name>`, as MCP clients name server tools; made portable when it is not. */
function defaultFlatName(namespace: string, name: string): string {
  const plain = `${namespace}__${name}`
  return PORTABLE_NAME.test(plain) ? plain : portableName(plain, `${namespace}\u0000${name}`, 0)
}

/** Disallowed characters replaced, a leading underscore if needed, and a hash (and a counter) of what it stands for. */
function portableName(name: string, seed: string, n: number): string {
  const clean = name.replace(/[^a-zA-Z0-9_-]/g, '_').replace(/^(?=[^a-zA-Z_])/, '_')
  const suffix = `_${fnv1a(seed)}${n ? `_${n}` : ''}`
  return clean.slice(0, 64 - suffix.length) + suffix
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  return (hash >>> 0).toString(16).padStart(8, '0')
}

/**
 * The canonical names of a request's client tools, both ways. Top-level function and custom tools keep their
 * names; each member of a namespace gets `<namespace>__<name>`, or, when that is not portable or another tool
 * has it, a portable form with a hash of namespace and name. Built from the request's `tools` alone, so the
 * decoder and the encoders (which see the client's request again) agree without sharing state.
 */
export class ClientToolNames {
  readonly byName = new Map<string, ClientToolRef>()
  readonly #flat = new Map<string, string>()

  constructor(tools: unknown) {
    const list = Array.isArray(tools) ? tools.filter(isRecord) : []
    for (const tool of list) {
      if ((tool.type === 'function' || tool.type === 'custom') && typeof tool.name === 'string') {
        if (!this.byName.has(tool.name)) this.byName.set(tool.name, { kind: tool.type, name: tool.name })
      }
    }
    for (const tool of list) {
      if (tool.type !== 'namespace' || typeof tool.name !== 'string' || !Array.isArray(tool.tools)) continue
      for (const member of tool.tools) {
        if (!isRecord(member) || (member.type !== 'function' && member.type !== 'custom') || typeof member.name !== 'string') continue
        const key = `${tool.name}\u0000${member.name}`
        if (this.#flat.has(key)) continue
        let flat = `${tool.name}__${member.name}`
        for (let n = 0; !PORTABLE_NAME.test(flat) || this.byName.has(flat); n++) flat = portableName(`${tool.name}__${member.name}`, key, n)
        this.#flat.set(key, flat)
        this.byName.set(flat, { kind: member.type, name: member.name, namespace: tool.name })
      }
    }
  }

  /** The canonical name of a tool (or a call to it) the client names, inside `namespace` when given. */
  canonical(name: string, namespace?: unknown): string {
    if (typeof namespace !== 'string' || !namespace) return name
    return this.#flat.get(`${namespace}\u0000${name}`) ?? defaultFlatName(namespace, name)
  }

  /** What a canonical tool name stands for; undefined for a name the client's tools do not hold. */
  ref(name: string): ClientToolRef | undefined {
    return this.byName.get(name)
  }
}

/** The one argument a custom tool's call carries when it travels as a function call. */
const CUSTOM_INPUT = 'input'

/** A custom (freeform) tool as a function of one string: the description says what the text must be. */
function customToolAsFunction(tool: Item, name: string, where: string): CanonicalTool {
  const lines: string[] = []
  if (typeof tool.description === 'string' && tool.description) lines.push(tool.description)
  lines.push(`Call this tool with a single string argument \`${CUSTOM_INPUT}\` holding the tool's raw input text (it travels as a JSON string here; write the text itself inside it, not JSON of your own).`)
  const format = isRecord(tool.format) ? tool.format : undefined
  if (format?.type === 'grammar') {
    if (typeof format.definition !== 'string') throw badRequest(`${where}.format.definition is required`, 'tools')
    lines.push(format.syntax === 'regex'
      ? `The input must match this regular expression: ${format.definition}`
      : `The input must follow this ${typeof format.syntax === 'string' ? format.syntax : 'lark'} grammar:\n${format.definition}`)
  } else if (format !== undefined && format.type !== 'text') {
    throw badRequest(`${where}.format: '${String(format.type)}' formats cannot be translated to this provider`, 'tools')
  }
  return {
    name,
    description: lines.join('\n\n'),
    parameters: {
      type: 'object',
      properties: { [CUSTOM_INPUT]: { type: 'string', description: 'The raw input text for the tool.' } },
      required: [CUSTOM_INPUT],
      additionalProperties: false,
    },
    strict: true,
  }
}

/** A custom tool call's arguments as a function call carries them. */
const customArguments = (input: unknown) => JSON.stringify({ [CUSTOM_INPUT]: typeof input === 'string' ? input : '' })

/** The input of a custom call from a whole JSON arguments text: `input`, or the one string argument the model chose. */
function customInputOf(args: string): string | undefined {
  let parsed: unknown
  try { parsed = JSON.parse(args) } catch { return undefined }
  if (!isRecord(parsed)) return undefined
  if (typeof parsed[CUSTOM_INPUT] === 'string') return parsed[CUSTOM_INPUT]
  const strings = Object.values(parsed).filter((value): value is string => typeof value === 'string')
  return Object.keys(parsed).length === 1 && strings.length === 1 ? strings[0] : undefined
}

const OPENING = `{"${CUSTOM_INPUT}":"`
/** Where JSON allows whitespace inside OPENING: before `{`, after it, before `:`, after it. */
const SPACE_AT = new Set([0, 1, OPENING.length - 2, OPENING.length - 1])
const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/**
 * A custom tool's input, read from the JSON arguments of its function call as they stream in. While the
 * arguments open with `{"input":"`, each piece of the string is decoded as soon as it is whole (an escape is
 * held until its last character arrives), so the input streams as text. Arguments of another shape are read
 * whole at the end.
 */
export class CustomInputReader {
  #raw = ''
  #pos = 0
  #matched = 0
  #state: 'opening' | 'string' | 'closed' | 'whole' = 'opening'
  /** The input text decoded so far. */
  decoded = ''

  /** Takes a piece of the arguments; returns the input text it completes (possibly ''). */
  push(piece: string): string {
    this.#raw += piece
    let out = ''
    const raw = this.#raw
    while (this.#pos < raw.length && (this.#state === 'opening' || this.#state === 'string')) {
      const c = raw[this.#pos]!
      if (this.#state === 'opening') {
        if (/\s/.test(c) && SPACE_AT.has(this.#matched)) this.#pos++
        else if (c !== OPENING[this.#matched]) this.#state = 'whole'
        else {
          this.#pos++
          if (++this.#matched === OPENING.length) this.#state = 'string'
        }
        continue
      }
      if (c === '"') {
        this.#state = 'closed'
        this.#pos++
      } else if (c !== '\\') {
        out += c
        this.#pos++
      } else {
        const next = raw[this.#pos + 1]
        if (next === undefined) break
        if (next === 'u') {
          const hex = raw.slice(this.#pos + 2, this.#pos + 6)
          if (hex.length < 4) break
          out += String.fromCharCode(Number.parseInt(hex, 16) || 0)
          this.#pos += 6
        } else {
          out += ESCAPES[next] ?? next
          this.#pos += 2
        }
      }
    }
    this.decoded += out
    return out
  }

  /** The whole input, once the arguments are complete (what was decoded, when they never became valid JSON). */
  get value(): string {
    return customInputOf(this.#raw) ?? (this.#state === 'whole' ? this.#raw : this.decoded)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Requests: decoding
// ---------------------------------------------------------------------------------------------------------

function contentList(content: unknown, where: string): Item[] {
  if (typeof content === 'string') return [{ type: 'input_text', text: content }]
  if (!Array.isArray(content)) throw badRequest(`${where}.content must be a string or an array of parts`, 'input')
  return content.map((part, j) => {
    if (!isRecord(part)) throw badRequest(`${where}.content[${j}] must be an object`, 'input')
    return part
  })
}

function imageFromInput(part: Item, where: string): ImagePart {
  if (typeof part.file_id === 'string' && part.file_id) {
    throw badRequest(`${where}: input_image file_id refers to a file stored at OpenAI and cannot be translated to this provider; send image_url`, 'input')
  }
  if (typeof part.image_url !== 'string' || !part.image_url) throw badRequest(`${where}.image_url is required`, 'input')
  return { type: 'image', source: imageSourceFromUrl(part.image_url) }
}

/** Text and image parts as a user (or a tool result) gives them. */
function inputParts(content: unknown, where: string): Array<TextPart | ImagePart> {
  return contentList(content, where).map((part, j): TextPart | ImagePart => {
    const at = `${where}.content[${j}]`
    if (part.type === 'input_text') return { type: 'text', text: String(part.text ?? '') }
    if (part.type === 'input_image') return imageFromInput(part, at)
    throw badRequest(`${at}: '${String(part.type)}' parts cannot be translated to this provider`, 'input')
  })
}

function toolOutputParts(output: unknown, where: string): Array<TextPart | ImagePart> {
  if (typeof output === 'string') return [{ type: 'text', text: output }]
  if (!Array.isArray(output)) throw badRequest(`${where}.output must be a string or an array of parts`, 'input')
  return inputParts(output, `${where}.output`)
}

/** An earlier assistant turn's text: output_text and refusal parts (and input_text, which clients also send). */
function assistantText(content: unknown, where: string): string {
  let text = ''
  for (const part of contentList(content, where)) {
    if (part.type === 'output_text' || part.type === 'input_text') text += String(part.text ?? '')
    else if (part.type === 'refusal') text += String(part.refusal ?? '')
    else throw badRequest(`${where}: '${String(part.type)}' parts cannot be translated to this provider`, 'input')
  }
  return text
}

function systemText(content: unknown, where: string): string {
  return contentList(content, where).map((part) => String(part.text ?? '')).join('')
}

/** Summary paragraphs (or, from open-weight models, the raw reasoning text) of a reasoning item. */
function reasoningText(item: Item): string {
  const summary = Array.isArray(item.summary) ? item.summary : []
  const content = Array.isArray(item.content) ? item.content : []
  const parts = summary.length ? summary : content
  return parts.filter(isRecord).map((part) => String(part.text ?? '')).filter(Boolean).join('\n\n')
}

function thinkingFromReasoning(item: Item): ThinkingPart | undefined {
  const text = reasoningText(item)
  const encrypted = typeof item.encrypted_content === 'string' && item.encrypted_content ? item.encrypted_content : undefined
  if (!text && !encrypted) return undefined
  return { type: 'thinking', text, ...(encrypted ? { encryptedContent: encrypted } : {}) }
}

/**
 * Appends a part to the turn of `role`: consecutive items of one role (reasoning, text and function calls of
 * one assistant turn; several function_call_outputs) become one canonical message.
 */
function appendTo(messages: CanonicalMessage[], role: CanonicalMessage['role'], part: CanonicalPart) {
  const last = messages[messages.length - 1]
  if (last && last.role === role) last.content.push(part)
  else messages.push({ role, content: [part] })
}

function decodeInputItem(item: unknown, i: number, system: string[], messages: CanonicalMessage[], names: ClientToolNames) {
  const where = `input[${i}]`
  if (!isRecord(item)) throw badRequest(`${where} must be an object`, 'input')
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined)
  switch (type) {
    case 'message':
      switch (item.role) {
        case 'system':
        case 'developer':
          system.push(systemText(item.content, where))
          return
        case 'user':
          messages.push({ role: 'user', content: inputParts(item.content, where) })
          return
        case 'assistant': {
          const text = assistantText(item.content, where)
          if (text) appendTo(messages, 'assistant', { type: 'text', text })
          return
        }
        default:
          throw badRequest(`${where}.role '${String(item.role)}' cannot be translated to this provider`, 'input')
      }
    case 'function_call':
    case 'custom_tool_call': {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string') throw badRequest(`${where}: ${type} needs call_id and name`, 'input')
      const args = type === 'custom_tool_call' ? customArguments(item.input) : String(item.arguments ?? '')
      appendTo(messages, 'assistant', { type: 'tool_call', id: item.call_id, name: names.canonical(item.name, item.namespace), arguments: args })
      return
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
      if (typeof item.call_id !== 'string') throw badRequest(`${where}: ${type} needs call_id`, 'input')
      appendTo(messages, 'tool', { type: 'tool_result', toolCallId: item.call_id, content: toolOutputParts(item.output, where) })
      return
    case 'reasoning': {
      const thinking = thinkingFromReasoning(item)
      if (thinking) appendTo(messages, 'assistant', thinking)
      return
    }
    case 'item_reference':
      throw badRequest(`${where}: item_reference '${String(item.id)}' names an item stored at OpenAI; it cannot be resolved for this provider`, 'input')
    default:
      throw badRequest(`${where}: '${String(type)}' items cannot be translated to this provider`, 'input')
  }
}

function decodeInput(input: unknown, system: string[], names: ClientToolNames): CanonicalMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: [{ type: 'text', text: input }] }]
  if (!Array.isArray(input)) throw badRequest('input must be a string or an array of items', 'input')
  const messages: CanonicalMessage[] = []
  input.forEach((item, i) => decodeInputItem(item, i, system, messages, names))
  return messages
}

/** Tools that run on OpenAI's servers. */
const HOSTED_TOOLS = new Set([
  'web_search', 'web_search_preview', 'web_search_2025_08_26', 'web_search_preview_2025_03_11', 'file_search',
  'code_interpreter', 'computer', 'computer_use', 'computer_use_preview', 'image_generation', 'mcp',
])

/** How Codex (the commonest client sending these) leaves a tool out of its requests (checked with Codex 0.171). */
const CODEX_SWITCH: Record<string, string> = {
  web_search: 'web_search = "disabled" in config.toml',
  web_search_preview: 'web_search = "disabled" in config.toml',
  tool_search: 'multi_agent = false under [features] in config.toml',
}

/** The 400 for a tool type no other provider has: what it is, that the request can go without it, and how. */
function refusedTool(type: string, where: string) {
  const what = HOSTED_TOOLS.has(type)
    ? `the hosted tool '${type}' runs on OpenAI's servers and`
    : `the OpenAI tool type '${type}' has no equivalent on other providers and`
  const codex = CODEX_SWITCH[type] ? ` (Codex: ${CODEX_SWITCH[type]})` : ''
  return badRequest(`${where}: ${what} cannot be translated to this provider; send the request without it${codex}`, 'tools')
}

function functionTool(tool: Item, name: string, where: string, strictByDefault: boolean): CanonicalTool {
  if (typeof tool.name !== 'string') throw badRequest(`${where}.name is required`, 'tools')
  return {
    name,
    ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
    ...(isRecord(tool.parameters) ? { parameters: tool.parameters } : {}),
    // The Responses API makes top-level function tools strict unless told otherwise; a namespace member is
    // strict only when it says so.
    strict: strictByDefault ? tool.strict !== false : tool.strict === true,
  }
}

/** A namespace's members as function tools: the canonical name carries the namespace, the description its description. */
function namespaceTools(tool: Item, k: number, names: ClientToolNames): CanonicalTool[] {
  const where = `tools[${k}]`
  if (typeof tool.name !== 'string' || !tool.name) throw badRequest(`${where}.name is required`, 'tools')
  if (!Array.isArray(tool.tools)) throw badRequest(`${where}.tools must be an array`, 'tools')
  const about = typeof tool.description === 'string' && tool.description ? `${tool.name}: ${tool.description}` : ''
  return tool.tools.map((member: unknown, j: number) => {
    const at = `${where}.tools[${j}]`
    if (!isRecord(member)) throw badRequest(`${at} must be an object`, 'tools')
    if (member.type !== 'function' && member.type !== 'custom') throw refusedTool(String(member.type), at)
    if (typeof member.name !== 'string') throw badRequest(`${at}.name is required`, 'tools')
    const name = names.canonical(member.name, tool.name)
    const out = member.type === 'function' ? functionTool(member, name, at, false) : customToolAsFunction(member, name, at)
    if (about) out.description = out.description ? `${about}\n\n${out.description}` : about
    return out
  })
}

function decodeTools(tools: unknown[], names: ClientToolNames): CanonicalTool[] {
  return tools.flatMap((tool, k) => {
    if (!isRecord(tool)) throw badRequest(`tools[${k}] must be an object`, 'tools')
    switch (tool.type) {
      case 'function': return [functionTool(tool, String(tool.name), `tools[${k}]`, true)]
      case 'custom':
        if (typeof tool.name !== 'string') throw badRequest(`tools[${k}].name is required`, 'tools')
        return [customToolAsFunction(tool, tool.name, `tools[${k}]`)]
      case 'namespace': return namespaceTools(tool, k, names)
      default: throw refusedTool(String(tool.type), `tools[${k}]`)
    }
  })
}

/** The canonical names an `allowed_tools` entry allows: a function or custom tool, or every member of a namespace. */
function allowedNames(entry: unknown, names: ClientToolNames): string[] {
  if (!isRecord(entry) || typeof entry.name !== 'string') return []
  if (entry.type === 'function' || entry.type === 'custom') return [names.canonical(entry.name, entry.namespace)]
  if (entry.type !== 'namespace') return []
  return [...names.byName].filter(([, ref]) => ref.namespace === entry.name).map(([name]) => name)
}

/** `tool_choice`; `allowed_tools` narrows the tool list itself, which every format can express. */
function decodeToolChoice(value: unknown, request: CanonicalRequest, names: ClientToolNames) {
  if (value === undefined || value === null) return
  if (value === 'auto' || value === 'none' || value === 'required') {
    request.toolChoice = { type: value }
    return
  }
  if (isRecord(value) && (value.type === 'function' || value.type === 'custom') && typeof value.name === 'string') {
    request.toolChoice = { type: 'tool', name: names.canonical(value.name, value.namespace) }
    return
  }
  if (isRecord(value) && value.type === 'allowed_tools' && Array.isArray(value.tools)) {
    const allowed = new Set(value.tools.flatMap((entry: unknown) => allowedNames(entry, names)))
    request.tools = request.tools?.filter((tool) => allowed.has(tool.name))
    request.toolChoice = { type: value.mode === 'required' ? 'required' : 'auto' }
    return
  }
  const type = isRecord(value) ? value.type : value
  throw badRequest(`tool_choice '${String(type)}' cannot be translated to this provider`, 'tool_choice')
}

function decodeTextFormat(text: unknown): CanonicalRequest['responseFormat'] {
  const format = isRecord(text) ? text.format : undefined
  if (!isRecord(format)) return undefined
  if (format.type === 'json_object') return { type: 'json_object' }
  if (format.type === 'json_schema') {
    return {
      type: 'json_schema',
      ...(typeof format.name === 'string' ? { name: format.name } : {}),
      ...(isRecord(format.schema) ? { schema: format.schema } : {}),
      ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
    }
  }
  return undefined
}

const EFFORT_IN: Record<string, 'minimal' | 'low' | 'medium' | 'high' | undefined> = {
  none: undefined, minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high',
}

function decodeReasoning(reasoning: unknown): CanonicalRequest['reasoning'] {
  const effort = isRecord(reasoning) && typeof reasoning.effort === 'string' ? EFFORT_IN[reasoning.effort] : undefined
  return effort ? { effort } : undefined
}

/** Decodes an OpenAI Responses request body. */
export function responsesRequestToCanonical(body: Record<string, unknown>): CanonicalRequest {
  if (body.input === undefined || body.input === null) throw badRequest('input is required', 'input')
  if (body.prompt != null) throw badRequest('prompt templates are stored at OpenAI and cannot be translated to this provider', 'prompt')
  if (body.conversation != null) throw badRequest('conversations are stored at OpenAI and cannot be translated to this provider', 'conversation')
  // The responses() plugin expands previous_response_id into input before any translation; reaching here means it is not configured.
  if (body.previous_response_id != null) throw badRequest('previous_response_id needs conversation state, which this gateway keeps only with the responses() plugin: add responses() to the config, or send the whole conversation as input', 'previous_response_id')

  const system: string[] = typeof body.instructions === 'string' && body.instructions ? [body.instructions] : []
  const names = new ClientToolNames(body.tools)
  const messages = decodeInput(body.input, system, names)
  const request: CanonicalRequest = { model: typeof body.model === 'string' ? body.model : undefined, system, messages, stream: body.stream === true }
  if (Array.isArray(body.tools) && body.tools.length) request.tools = decodeTools(body.tools, names)
  decodeToolChoice(body.tool_choice, request, names)
  if (body.parallel_tool_calls === false) request.parallelToolCalls = false
  request.responseFormat = decodeTextFormat(body.text)
  request.reasoning = decodeReasoning(body.reasoning)
  request.maxTokens = numberOrUndefined(body.max_output_tokens)
  request.temperature = numberOrUndefined(body.temperature)
  request.topP = numberOrUndefined(body.top_p)
  const user = body.safety_identifier ?? body.user
  if (typeof user === 'string' && user) request.user = user
  return request
}

// ---------------------------------------------------------------------------------------------------------
// Requests: encoding
// ---------------------------------------------------------------------------------------------------------

function inputImage(part: ImagePart): Item {
  const url = part.source.kind === 'base64' ? dataUrl(part.source) : part.source.url
  return { type: 'input_image', image_url: url, detail: 'auto' }
}

function inputPart(part: TextPart | ImagePart): Item {
  return part.type === 'text' ? { type: 'input_text', text: part.text } : inputImage(part)
}

function functionCallOutput(part: ToolResultPart): Item {
  const onlyText = part.content.every((p) => p.type === 'text')
  const output = onlyText ? part.content.map((p) => (p as TextPart).text).join('') : part.content.map(inputPart)
  return { type: 'function_call_output', call_id: part.toolCallId, output }
}

/** An assistant turn as items, in order: reasoning it can take back, text messages, function calls. */
function assistantItems(message: CanonicalMessage): Item[] {
  const items: Item[] = []
  let text = ''
  const flushText = () => {
    if (text) items.push({ type: 'message', role: 'assistant', content: text })
    text = ''
  }
  for (const part of message.content) {
    if (part.type === 'text') { text += part.text; continue }
    flushText()
    if (part.type === 'tool_call') items.push({ type: 'function_call', call_id: part.id, name: part.name, arguments: part.arguments || '{}' })
    // OpenAI takes back only reasoning it encrypted itself.
    else if (part.type === 'thinking' && part.encryptedContent) {
      items.push({ type: 'reasoning', summary: part.text ? [{ type: 'summary_text', text: part.text }] : [], encrypted_content: part.encryptedContent })
    }
  }
  flushText()
  return items
}

/** A user or tool turn: tool results become function_call_output items, the rest one user message. */
function userItems(message: CanonicalMessage): Item[] {
  const items: Item[] = []
  const content: Item[] = []
  for (const part of message.content) {
    if (part.type === 'tool_result') items.push(functionCallOutput(part))
    else if (part.type === 'text' || part.type === 'image') content.push(inputPart(part))
  }
  if (content.length) items.push({ type: 'message', role: 'user', content })
  return items
}

function encodeTools(tools: CanonicalTool[]): Item[] {
  return tools.map((tool) => ({
    type: 'function',
    name: tool.name,
    ...(tool.description ? { description: tool.description } : {}),
    parameters: tool.parameters ?? { type: 'object', properties: {} },
    // Strict schemas refuse most hand-written ones; Chat and the other formats are not strict by default.
    strict: tool.strict ?? false,
  }))
}

function encodeTextFormat(format: CanonicalRequest['responseFormat']): Item | undefined {
  if (format?.type === 'json_object') return { type: 'json_object' }
  if (format?.type === 'json_schema') {
    return { type: 'json_schema', name: format.name ?? 'response', schema: format.schema ?? {}, ...(format.strict !== undefined ? { strict: format.strict } : {}) }
  }
  return undefined
}

/** Encodes a canonical request as an OpenAI Responses body. */
export function canonicalToResponsesRequest(request: CanonicalRequest): Record<string, unknown> {
  const [instructions, ...moreSystem] = request.system.filter((text) => text.length > 0)
  const input: Item[] = moreSystem.map((text) => ({ type: 'message', role: 'system', content: text }))
  for (const message of request.messages) input.push(...(message.role === 'assistant' ? assistantItems(message) : userItems(message)))

  // Chat Completions stores nothing by default; the Responses API stores unless told not to.
  const body: Record<string, unknown> = { model: request.model, input, store: false }
  if (instructions) body.instructions = instructions
  if (request.tools?.length) {
    body.tools = encodeTools(request.tools)
    if (request.parallelToolCalls === false) body.parallel_tool_calls = false
  }
  const choice = request.toolChoice
  if (choice) body.tool_choice = choice.type === 'tool' ? { type: 'function', name: choice.name } : choice.type
  const format = encodeTextFormat(request.responseFormat)
  if (format) body.text = { format }
  const effort = effortForReasoning(request.reasoning)
  // A budget is how Anthropic clients ask for thinking they can see: ask for the summaries then.
  if (effort) body.reasoning = { effort, ...(request.reasoning?.budgetTokens !== undefined ? { summary: 'auto' } : {}) }
  if (request.maxTokens !== undefined) body.max_output_tokens = request.maxTokens
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.user) body.user = request.user
  body.stream = request.stream
  return body
}

// ---------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------

/** The finish a response's status stands for. */
function finishFromStatus(response: Item, sawToolCall: boolean): FinishReason {
  if (response.status === 'incomplete') return response.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length'
  return sawToolCall ? 'tool_calls' : 'stop'
}

function messageText(item: Item): string {
  let text = ''
  for (const part of Array.isArray(item.content) ? item.content : []) {
    if (part?.type === 'output_text') text += String(part.text ?? '')
    else if (part?.type === 'refusal') text += String(part.refusal ?? '')
  }
  return text
}

/** Decodes a `response` object. Output items of hosted tools (web search calls, ...) are left out. */
export function responsesResponseToCanonical(body: unknown): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.output)) throw badRequest('upstream response is not an OpenAI response object')
  const content: CanonicalResponse['content'] = []
  for (const item of body.output) {
    if (!isRecord(item)) continue
    if (item.type === 'message') {
      const text = messageText(item)
      if (text) content.push({ type: 'text', text })
    } else if (item.type === 'function_call') {
      content.push({ type: 'tool_call', id: String(item.call_id ?? item.id), name: String(item.name ?? ''), arguments: String(item.arguments ?? '') })
    } else if (item.type === 'reasoning') {
      const thinking = thinkingFromReasoning(item)
      if (thinking) content.push(thinking)
    }
  }
  const usage = canonicalUsageFromResponses(body.usage)
  return {
    id: typeof body.id === 'string' ? body.id : undefined,
    model: typeof body.model === 'string' ? body.model : undefined,
    content,
    finishReason: finishFromStatus(body, content.some((p) => p.type === 'tool_call')),
    usage: usage ? mergeUsage(emptyUsage(), usage) : undefined,
  }
}

const outputText = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text })
const summaryText = (text: string) => ({ type: 'summary_text', text })

function messageItem(id: string, text: string, status: 'in_progress' | 'completed' | 'incomplete'): Item {
  return { id, type: 'message', status, content: status === 'in_progress' ? [] : [outputText(text)], role: 'assistant' }
}

type ItemStatus = 'in_progress' | 'completed' | 'incomplete'

function functionCallItem(id: string, callId: string, name: string, args: string, status: ItemStatus, namespace?: string): Item {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name, ...(namespace ? { namespace } : {}) }
}

function customToolCallItem(id: string, callId: string, ref: ClientToolRef, input: string, status: ItemStatus): Item {
  return { id, type: 'custom_tool_call', status, call_id: callId, name: ref.name, input, ...(ref.namespace ? { namespace: ref.namespace } : {}) }
}

/** A canonical tool call as the item of the tool the client offered: a custom tool's call, or a function's. */
function toolCallItem(seed: string, index: number, part: { id: string; name: string; arguments: string }, names: ClientToolNames): Item {
  const ref = names.ref(part.name)
  if (ref?.kind === 'custom') {
    const reader = new CustomInputReader()
    reader.push(part.arguments)
    return customToolCallItem(safeId('ctc_', seed, index), part.id, ref, reader.value, 'completed')
  }
  return functionCallItem(safeId('fc_', seed, index), part.id, ref?.name ?? part.name, part.arguments || '{}', 'completed', ref?.namespace)
}

function reasoningItem(id: string, text: string, encryptedContent?: string): Item {
  return { id, type: 'reasoning', summary: text ? [summaryText(text)] : [], ...(encryptedContent ? { encrypted_content: encryptedContent } : {}) }
}

/** The status a response ends in, and why when it is incomplete. */
function endState(reason: FinishReason) {
  if (reason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } as const
  if (reason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } } as const
  return { status: 'completed', incomplete_details: null } as const
}

/**
 * The request settings a response object repeats back. Taken from the client's own request when the pipeline
 * passed it, otherwise the API's defaults (or null).
 */
function echoedRequest(request: Record<string, any> = {}) {
  return {
    instructions: typeof request.instructions === 'string' ? request.instructions : null,
    max_output_tokens: numberOrUndefined(request.max_output_tokens) ?? null,
    parallel_tool_calls: request.parallel_tool_calls !== false,
    previous_response_id: typeof request.previous_response_id === 'string' ? request.previous_response_id : null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    safety_identifier: typeof request.safety_identifier === 'string' ? request.safety_identifier : null,
    temperature: numberOrUndefined(request.temperature) ?? null,
    text: { format: isRecord(request.text?.format) ? request.text.format : { type: 'text' }, ...(request.text?.verbosity ? { verbosity: request.text.verbosity } : {}) },
    tool_choice: request.tool_choice ?? 'auto',
    tools: Array.isArray(request.tools) ? request.tools : [],
    top_p: numberOrUndefined(request.top_p) ?? null,
    truncation: request.truncation === 'auto' ? 'auto' : 'disabled',
    ...(typeof request.user === 'string' ? { user: request.user } : {}),
    metadata: isRecord(request.metadata) ? request.metadata : {},
  }
}

interface ResponseObjectParts {
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed'
  output: Item[]
  usage: CanonicalUsage | null
  incompleteDetails?: { reason: string } | null
  error?: { code: string; message: string } | null
}

/** A whole `response` object, as the API returns it and as stream lifecycle events carry it. */
function responseObject(info: TranslateInfo, created: number, parts: ResponseObjectParts): Record<string, unknown> {
  return {
    id: prefixedId('resp_', info.id),
    object: 'response',
    created_at: created,
    status: parts.status,
    background: false,
    error: parts.error ?? null,
    incomplete_details: parts.incompleteDetails ?? null,
    model: info.model,
    output: parts.output,
    ...echoedRequest(info.request),
    usage: parts.usage ? responsesUsageFromCanonical(parts.usage) : null,
  }
}

/** Output items for canonical content: each run of text one message, each tool call and thinking its own item. */
function outputItems(content: CanonicalResponse['content'], seed: string, names: ClientToolNames): Item[] {
  const items: Item[] = []
  let text: string | undefined
  const flushText = () => {
    if (text !== undefined) items.push(messageItem(safeId('msg_', seed, items.length), text, 'completed'))
    text = undefined
  }
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text) text = (text ?? '') + part.text
      continue
    }
    flushText()
    if (part.type === 'tool_call') items.push(toolCallItem(seed, items.length, part, names))
    else items.push(reasoningItem(safeId('rs_', seed, items.length), part.text, part.encryptedContent))
  }
  flushText()
  return items
}

/** Encodes a canonical response as a `response` object. */
export function canonicalToResponsesResponse(response: CanonicalResponse, info: TranslateInfo): Record<string, unknown> {
  const end = endState(response.finishReason)
  return responseObject(info, info.created ?? Math.floor(Date.now() / 1000), {
    status: end.status,
    incompleteDetails: end.incomplete_details,
    output: outputItems(response.content, info.id, new ClientToolNames(info.request?.tools)),
    usage: response.usage ?? emptyUsage(),
  })
}

// ---------------------------------------------------------------------------------------------------------
// Streams: decoding
// ---------------------------------------------------------------------------------------------------------

/**
 * Decodes Responses SSE events. Function calls are numbered 0, 1, ... in the order they start. Only counts of
 * what was passed on are kept, so that a server that skips deltas (and sends the whole item at `done`) still
 * gets its text and arguments through, without the stream's text being held.
 */
export function createResponsesStreamDecoder(_info: TranslateInfo): StreamDecoder {
  const calls = new Map<number, { ordinal: number; sent: number }>() // by output_index
  const textSent = new Map<number, number>() // by output_index
  let nextOrdinal = 0
  let failed = false

  const startCall = (outputIndex: number, item: Item, out: CanonicalStreamEvent[]) => {
    const call = { ordinal: nextOrdinal++, sent: 0 }
    calls.set(outputIndex, call)
    out.push({ type: 'tool_call_start', index: call.ordinal, id: String(item.call_id ?? item.id ?? ''), name: String(item.name ?? '') })
    return call
  }
  const callArguments = (call: { ordinal: number; sent: number }, args: string, out: CanonicalStreamEvent[]) => {
    if (!args) return
    call.sent += args.length
    out.push({ type: 'tool_call_delta', index: call.ordinal, arguments: args })
  }
  /** At `output_item.done`: whatever the deltas did not carry. */
  const catchUp = (outputIndex: number, item: Item, out: CanonicalStreamEvent[]) => {
    if (item.type === 'function_call') {
      const call = calls.get(outputIndex) ?? startCall(outputIndex, item, out)
      callArguments(call, String(item.arguments ?? '').slice(call.sent), out)
    } else if (item.type === 'message') {
      const rest = messageText(item).slice(textSent.get(outputIndex) ?? 0)
      if (rest) out.push({ type: 'text', text: rest })
    }
  }
  const text = (outputIndex: number, delta: unknown): CanonicalStreamEvent[] => {
    if (typeof delta !== 'string' || !delta) return []
    textSent.set(outputIndex, (textSent.get(outputIndex) ?? 0) + delta.length)
    return [{ type: 'text', text: delta }]
  }
  const finish = (response: Item): CanonicalStreamEvent[] => {
    const out: CanonicalStreamEvent[] = []
    const usage = canonicalUsageFromResponses(response.usage)
    if (usage) out.push({ type: 'usage', usage })
    out.push({ type: 'finish', reason: finishFromStatus(response, calls.size > 0) }, { type: 'done' })
    return out
  }

  return (event) => {
    const json = event.json
    if (!isRecord(json)) return []
    const outputIndex = Number(json.output_index)
    switch (json.type ?? event.event) {
      case 'response.created': {
        const response = isRecord(json.response) ? json.response : {}
        return [{ type: 'start', id: response.id, model: response.model }]
      }
      case 'response.output_item.added': {
        const out: CanonicalStreamEvent[] = []
        if (json.item?.type === 'function_call') callArguments(startCall(outputIndex, json.item, out), String(json.item.arguments ?? ''), out)
        return out
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        return text(outputIndex, json.delta)
      case 'response.function_call_arguments.delta': {
        const call = calls.get(outputIndex)
        const out: CanonicalStreamEvent[] = []
        if (call && typeof json.delta === 'string') callArguments(call, json.delta, out)
        return out
      }
      case 'response.reasoning_summary_part.added':
        return Number(json.summary_index) > 0 ? [{ type: 'thinking', text: '\n\n' }] : [] // paragraphs of one summary
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        return typeof json.delta === 'string' && json.delta ? [{ type: 'thinking', text: json.delta }] : []
      case 'response.output_item.done': {
        const out: CanonicalStreamEvent[] = []
        if (isRecord(json.item)) catchUp(outputIndex, json.item, out)
        return out
      }
      case 'response.completed':
      case 'response.incomplete':
        return finish(isRecord(json.response) ? json.response : {})
      case 'response.failed':
      case 'error':
        if (failed) return [] // an `error` event is usually followed by response.failed: one error is enough
        failed = true
        return [streamErrorOf(json)]
      default:
        return [] // in_progress, content parts, *.done events, hosted tools' progress, keepalive, anything new
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Streams: encoding
// ---------------------------------------------------------------------------------------------------------

type OpenItem =
  | { kind: 'message'; outputIndex: number; id: string; text: string }
  | { kind: 'reasoning'; outputIndex: number; id: string; text: string }
  | { kind: 'function_call'; outputIndex: number; id: string; callId: string; name: string; namespace?: string; arguments: string; done?: Item }
  | { kind: 'custom_tool_call'; outputIndex: number; id: string; callId: string; ref: ClientToolRef; input: CustomInputReader; done?: Item }

type CallItem = Extract<OpenItem, { kind: 'function_call' | 'custom_tool_call' }>

/**
 * Writes canonical stream events as the Responses API's typed events: `response.created`, `response.in_progress`,
 * each output item opened, filled and closed in turn, then `response.completed` (or `response.incomplete`)
 * carrying the whole response. The item events repeat the whole text when they close, so the encoder keeps the
 * output it wrote: the format asks for it. A call to a tool the client offered as a custom tool becomes a
 * `custom_tool_call` whose input streams as `response.custom_tool_call_input.delta` events; a call to a
 * namespace's member, a `function_call` carrying its `namespace`.
 */
export function createResponsesStreamEncoder(info: TranslateInfo): StreamEncoder {
  const created = info.created ?? Math.floor(Date.now() / 1000)
  const usage = emptyUsage()
  const output: Item[] = []
  const names = new ClientToolNames(info.request?.tools)
  const callsByIndex = new Map<number, CallItem>()
  let sequence = 0
  let started = false
  let closed = false
  let open: OpenItem | undefined
  let finish: FinishReason | undefined

  const frame = (type: string, payload: Record<string, unknown>): SSEFrame =>
    ({ event: type, data: JSON.stringify({ type, sequence_number: sequence++, ...payload }) })
  const response = (parts: ResponseObjectParts) => responseObject(info, created, parts)
  const at = (item: OpenItem) => ({ item_id: item.id, output_index: item.outputIndex })

  const start = (frames: SSEFrame[]) => {
    if (started) return frames
    started = true
    const inProgress = response({ status: 'in_progress', output: [], usage: null })
    frames.push(frame('response.created', { response: inProgress }), frame('response.in_progress', { response: inProgress }))
    return frames
  }

  /** Closes the open item, then opens the one `build` makes at the next output index. */
  const openItem = <T extends OpenItem>(frames: SSEFrame[], build: (outputIndex: number) => T): T => {
    closeOpen(frames)
    const item = build(output.length)
    open = item
    switch (item.kind) {
      case 'message':
        frames.push(frame('response.output_item.added', { output_index: item.outputIndex, item: messageItem(item.id, '', 'in_progress') }))
        frames.push(frame('response.content_part.added', { ...at(item), content_index: 0, part: outputText('') }))
        break
      case 'reasoning':
        frames.push(frame('response.output_item.added', { output_index: item.outputIndex, item: reasoningItem(item.id, '') }))
        frames.push(frame('response.reasoning_summary_part.added', { ...at(item), summary_index: 0, part: summaryText('') }))
        break
      case 'function_call':
        frames.push(frame('response.output_item.added', { output_index: item.outputIndex, item: functionCallItem(item.id, item.callId, item.name, '', 'in_progress', item.namespace) }))
        break
      case 'custom_tool_call':
        frames.push(frame('response.output_item.added', { output_index: item.outputIndex, item: customToolCallItem(item.id, item.callId, item.ref, '', 'in_progress') }))
    }
    return item
  }

  const closeOpen = (frames: SSEFrame[]) => {
    const item = open
    if (!item) return frames
    open = undefined
    let done: Item
    switch (item.kind) {
      case 'message':
        frames.push(frame('response.output_text.done', { ...at(item), content_index: 0, text: item.text, logprobs: [] }))
        frames.push(frame('response.content_part.done', { ...at(item), content_index: 0, part: outputText(item.text) }))
        done = messageItem(item.id, item.text, 'completed')
        break
      case 'reasoning':
        frames.push(frame('response.reasoning_summary_text.done', { ...at(item), summary_index: 0, text: item.text }))
        frames.push(frame('response.reasoning_summary_part.done', { ...at(item), summary_index: 0, part: summaryText(item.text) }))
        done = reasoningItem(item.id, item.text)
        break
      case 'function_call':
        frames.push(frame('response.function_call_arguments.done', { ...at(item), name: item.name, arguments: item.arguments }))
        done = item.done = functionCallItem(item.id, item.callId, item.name, item.arguments, 'completed', item.namespace)
        break
      case 'custom_tool_call': {
        // Whatever the deltas did not carry (all of it, for arguments that did not open with `{"input":"`).
        const input = item.input.value
        const rest = input.startsWith(item.input.decoded) ? input.slice(item.input.decoded.length) : ''
        if (rest) frames.push(frame('response.custom_tool_call_input.delta', { ...at(item), delta: rest }))
        frames.push(frame('response.custom_tool_call_input.done', { ...at(item), input }))
        done = item.done = customToolCallItem(item.id, item.callId, item.ref, input, 'completed')
      }
    }
    frames.push(frame('response.output_item.done', { output_index: item.outputIndex, item: done }))
    output.push(done)
    return frames
  }

  /** The open item's state as a failed response shows it. */
  const partialItem = (item: OpenItem): Item => {
    switch (item.kind) {
      case 'message': return messageItem(item.id, item.text, 'incomplete')
      case 'reasoning': return reasoningItem(item.id, item.text)
      case 'function_call': return functionCallItem(item.id, item.callId, item.name, item.arguments, 'incomplete', item.namespace)
      case 'custom_tool_call': return customToolCallItem(item.id, item.callId, item.ref, item.input.decoded, 'incomplete')
    }
  }

  const text = (delta: string): SSEFrame[] => {
    const frames = start([])
    const item = open?.kind === 'message' ? open
      : openItem(frames, (outputIndex) => ({ kind: 'message' as const, outputIndex, id: safeId('msg_', info.id, outputIndex), text: '' }))
    item.text += delta
    frames.push(frame('response.output_text.delta', { ...at(item), content_index: 0, delta, logprobs: [] }))
    return frames
  }

  const thinking = (delta: string): SSEFrame[] => {
    const frames = start([])
    const item = open?.kind === 'reasoning' ? open
      : openItem(frames, (outputIndex) => ({ kind: 'reasoning' as const, outputIndex, id: safeId('rs_', info.id, outputIndex), text: '' }))
    item.text += delta
    frames.push(frame('response.reasoning_summary_text.delta', { ...at(item), summary_index: 0, delta }))
    return frames
  }

  const toolCallStart = (index: number, callId: string, name: string): SSEFrame[] => {
    const frames = start([])
    const ref = names.ref(name)
    const item: CallItem = ref?.kind === 'custom'
      ? openItem(frames, (outputIndex) => ({ kind: 'custom_tool_call' as const, outputIndex, id: safeId('ctc_', info.id, outputIndex), callId, ref, input: new CustomInputReader() }))
      : openItem(frames, (outputIndex) => ({ kind: 'function_call' as const, outputIndex, id: safeId('fc_', info.id, outputIndex), callId, name: ref?.name ?? name, namespace: ref?.namespace, arguments: '' }))
    callsByIndex.set(index, item)
    return frames
  }

  // Arguments for a call whose item already closed (an upstream interleaving parallel calls) still go to that
  // call's output index, and into its finished item, which response.completed carries whole.
  const toolCallDelta = (index: number, delta: string): SSEFrame[] => {
    const item = callsByIndex.get(index)
    if (!item) return []
    if (item.kind === 'custom_tool_call') {
      const text = item.input.push(delta)
      if (item.done) item.done.input = item.input.value
      return text ? [frame('response.custom_tool_call_input.delta', { ...at(item), delta: text })] : []
    }
    item.arguments += delta
    if (item.done) item.done.arguments = item.arguments
    return [frame('response.function_call_arguments.delta', { ...at(item), delta })]
  }

  const encoder: StreamEncoder = {
    encode(event) {
      if (closed) return []
      switch (event.type) {
        case 'start':
          mergeUsage(usage, event.usage)
          return start([])
        case 'text': return event.text ? text(event.text) : []
        case 'thinking': return event.text ? thinking(event.text) : []
        case 'tool_call_start': return toolCallStart(event.index, event.id, event.name)
        case 'tool_call_delta': return event.arguments ? toolCallDelta(event.index, event.arguments) : []
        case 'usage':
          mergeUsage(usage, event.usage)
          return []
        case 'finish':
          finish = event.reason
          return closeOpen([])
        case 'error':
          return encoder.error({ status: event.status, message: event.message, type: event.errorType })
        default:
          return [] // an Anthropic signature means nothing here; `done` waits for end()
      }
    },
    end() {
      if (closed) return []
      closed = true
      const frames = closeOpen(start([]))
      const end = endState(finish ?? (callsByIndex.size ? 'tool_calls' : 'stop'))
      const final = response({ status: end.status, incompleteDetails: end.incomplete_details, output, usage })
      frames.push(frame(end.status === 'completed' ? 'response.completed' : 'response.incomplete', { response: final }))
      return frames
    },
    error(errorInfo) {
      if (closed) return []
      closed = true
      // The SDK's accumulator needs response.created before any lifecycle event, so a stream that failed
      // before its first event still opens.
      const frames = start([])
      frames.push(frame('error', errorEventPayload(errorInfo)))
      const failedOutput = open ? [...output, partialItem(open)] : output
      const error = { code: responseErrorCode(errorInfo), message: errorInfo.message }
      frames.push(frame('response.failed', { response: response({ status: 'failed', output: failedOutput, usage, error }) }))
      return frames
    },
  }
  return encoder
}

/**
 * Error frames for a same-format stream that died midway. Without the stream's state there is no response object
 * to fail and no last sequence number: this is the `error` event alone, numbered 0.
 */
function responsesStreamErrorFrames(info: ErrorInfo): SSEFrame[] {
  return [{ event: 'error', data: JSON.stringify({ type: 'error', sequence_number: 0, ...errorEventPayload(info) }) }]
}

export const openaiResponsesCodec: WireCodec = {
  format: 'openai-responses',
  kind: 'chat',
  errorBody: openaiErrorBody,
  errorInfo: openaiErrorInfo,
  streamErrorFrames: responsesStreamErrorFrames,
  readUsage: canonicalUsageFromResponses,
  bodyUsage: (body) => canonicalUsageFromResponses(isRecord(body) ? body.usage : undefined),
  streamUsage: responsesStreamUsage,
  streamDone: isTerminalEvent,
  setModel: (body, model) => { body.model = model },
  decodeRequest: responsesRequestToCanonical,
  encodeRequest: canonicalToResponsesRequest,
  decodeResponse: responsesResponseToCanonical,
  encodeResponse: canonicalToResponsesResponse,
  streamDecoder: createResponsesStreamDecoder,
  streamEncoder: createResponsesStreamEncoder,
}
