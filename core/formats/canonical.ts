/**
 * The canonical shape every cross-format translation passes through: each codec decodes its wire format
 * into these types and encodes them back out. Nothing here knows a wire format.
 *
 * Token counts follow OpenAI's meaning: `inputTokens` is the whole prompt, cached tokens included;
 * `outputTokens` is everything generated, reasoning included.
 */
import { GatewayError } from '../errors.ts'

export type CanonicalRole = 'user' | 'assistant' | 'tool'

export type ImageSource =
  | { kind: 'base64'; mediaType: string; data: string }
  | { kind: 'url'; url: string; mediaType?: string }

export interface TextPart { type: 'text'; text: string }
export interface ImagePart { type: 'image'; source: ImageSource }
/** A tool call the model made. `arguments` is JSON text, as OpenAI carries it. */
export interface ToolCallPart { type: 'tool_call'; id: string; name: string; arguments: string }
/** A tool's answer. `name` is filled when the source format carries it (Gemini needs it). */
export interface ToolResultPart {
  type: 'tool_result'
  toolCallId: string
  name?: string
  content: Array<TextPart | ImagePart>
  isError?: boolean
}
/** Model reasoning text (Anthropic thinking, Gemini thoughts). `signature` is Anthropic's opaque proof. */
export interface ThinkingPart {
  type: 'thinking'
  text: string
  signature?: string
  /** OpenAI Responses: the reasoning item's opaque `encrypted_content`; only an OpenAI Responses body takes it back. */
  encryptedContent?: string
  /** Anthropic `redacted_thinking.data`: encrypted thinking with no readable text, which only Anthropic reads back. */
  redacted?: string
}

export type CanonicalPart = TextPart | ImagePart | ToolCallPart | ToolResultPart | ThinkingPart

export interface CanonicalMessage {
  role: CanonicalRole
  content: CanonicalPart[]
}

export interface CanonicalTool {
  name: string
  description?: string
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>
  /** OpenAI strict schema adherence, when the source said (the Responses API defaults it to true, Chat to false). */
  strict?: boolean
}

export type CanonicalToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'tool'; name: string }

export type CanonicalResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name?: string; schema?: Record<string, unknown>; strict?: boolean }

/**
 * Reasoning effort in the union of the vocabularies: OpenAI `reasoning_effort` (none ... xhigh, max) and Anthropic
 * `output_config.effort` (low ... max). Each encoder maps it onto what its target accepts.
 */
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max'

export interface CanonicalRequest {
  /** The model as the client named it; the pipeline overwrites it with the upstream name. */
  model?: string
  /** System prompts in order; several are kept apart where the target format allows. */
  system: string[]
  messages: CanonicalMessage[]
  tools?: CanonicalTool[]
  toolChoice?: CanonicalToolChoice
  /** false: at most one tool call per turn. */
  parallelToolCalls?: boolean
  responseFormat?: CanonicalResponseFormat
  stop?: string[]
  temperature?: number
  topP?: number
  topK?: number
  maxTokens?: number
  seed?: number
  presencePenalty?: number
  frequencyPenalty?: number
  /** Reasoning controls as the client gave them: a token budget, an effort, adaptive or disabled thinking. */
  reasoning?: {
    budgetTokens?: number
    effort?: ReasoningEffort
    /** How the client switched thinking when it named no budget: 'adaptive' (the model decides how much), 'disabled' (off). */
    mode?: 'adaptive' | 'disabled'
    /** The client can display reasoning text and asked for it (Anthropic thinking on, not `display: 'omitted'`). */
    showThinking?: boolean
  }
  stream: boolean
  /** An end-user id (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string
}

/** Why generation stopped. A hit stop sequence is `stop` with `stopSequence` set when the source names it. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter'

/** The one usage type: core's token counts (without the `estimated` flag). */
export type CanonicalUsage = import('../types.ts').TokenCounts

export interface CanonicalResponse {
  id?: string
  model?: string
  content: Array<TextPart | ToolCallPart | ThinkingPart>
  finishReason: FinishReason
  stopSequence?: string | null
  usage?: CanonicalUsage
}

/**
 * One step of a streamed response. Tool calls are numbered by `index` in the order they start (0, 1, ...),
 * whatever block numbering the source format uses; argument deltas name the call they extend.
 */
export type CanonicalStreamEvent =
  | { type: 'start'; id?: string; model?: string; usage?: Partial<CanonicalUsage> }
  | { type: 'text'; text: string }
  | { type: 'thinking'; text: string }
  | { type: 'thinking_signature'; signature: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; arguments: string }
  | { type: 'finish'; reason: FinishReason; stopSequence?: string | null }
  | { type: 'usage'; usage: Partial<CanonicalUsage> }
  | { type: 'error'; status: number; message: string; errorType: string }
  /** The upstream said it is done (OpenAI `[DONE]`, Anthropic `message_stop`). */
  | { type: 'done' }

export function emptyUsage(): CanonicalUsage {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }
}

export function mergeUsage(into: CanonicalUsage, from: Partial<CanonicalUsage> | undefined): CanonicalUsage {
  if (!from) return into
  for (const key of Object.keys(from) as Array<keyof CanonicalUsage>) {
    const value = from[key]
    if (typeof value === 'number' && Number.isFinite(value)) into[key] = value
  }
  return into
}

export function badRequest(message: string, param?: string): GatewayError {
  return new GatewayError(400, message, { type: 'invalid_request_error', param: param ?? null })
}

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** `stop` as OpenAI allows it (a string or a list) into a list; undefined when empty. */
export function stopList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value ? [value] : undefined
  if (Array.isArray(value)) {
    const list = value.filter((s): s is string => typeof s === 'string' && s.length > 0)
    return list.length ? list : undefined
  }
  return undefined
}

/** Parses tool-call arguments into an object; '' means no arguments. */
export function parseArguments(text: string, where: string): Record<string, unknown> {
  if (!text || !text.trim()) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw badRequest(`${where}: tool call arguments are not valid JSON`)
  }
  if (!isRecord(parsed)) throw badRequest(`${where}: tool call arguments must be a JSON object`)
  return parsed
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s

/** An image URL as a canonical source: `data:` URLs become base64, anything else stays a URL. */
export function imageSourceFromUrl(url: string): ImageSource {
  const match = DATA_URL.exec(url)
  if (match) return { kind: 'base64', mediaType: match[1]!, data: match[2]! }
  return { kind: 'url', url }
}

export function dataUrl(source: { mediaType: string; data: string }): string {
  return `data:${source.mediaType};base64,${source.data}`
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  heic: 'image/heic', heif: 'image/heif', pdf: 'application/pdf',
}

/** A best guess of an image URL's media type from its extension (Gemini's fileData needs one). */
export function guessMediaType(url: string): string {
  const path = url.split(/[?#]/, 1)[0]!
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase()
  return MIME_BY_EXTENSION[ext] ?? 'image/jpeg'
}

/** Characters a tool-call id may hold everywhere (Anthropic's pattern is the strictest). */
export function safeId(prefix: string, seed: string, index: number): string {
  return `${prefix}${seed.replace(/[^a-zA-Z0-9_-]/g, '')}_${index}`
}

/** Joins the text parts of a content list. */
export function joinText(parts: CanonicalPart[]): string {
  let text = ''
  for (const part of parts) if (part.type === 'text') text += part.text
  return text
}

/** Turns one upstream SSE event into canonical stream events. Stateful: one per stream. */
export type StreamDecoder = (event: import('../types.ts').SSEEvent) => CanonicalStreamEvent[]

/** Writes canonical stream events out as one client format's SSE frames. Stateful: one per stream. */
export interface StreamEncoder {
  encode(event: CanonicalStreamEvent): import('./types.ts').SSEFrame[]
  end(): import('./types.ts').SSEFrame[]
  error(info: import('./types.ts').ErrorInfo): import('./types.ts').SSEFrame[]
}

/** Effort to a thinking budget, and back. Budgets past 32k buy little (Anthropic's extended-thinking guidance). */
export const EFFORT_BUDGET: Readonly<Record<ReasoningEffort, number>> = {
  none: 0, minimal: 0, low: 1024, medium: 8192, high: 24576, xhigh: 32768, max: 32768,
}

/**
 * The thinking budget for a budget-based target (Gemini, Claude models before adaptive thinking): off → 0; a
 * budget as given; an effort through EFFORT_BUDGET; adaptive with no effort → the medium budget, as OpenAI
 * targets get 'medium'.
 */
export function budgetForReasoning(reasoning: CanonicalRequest['reasoning']): number | undefined {
  if (!reasoning) return undefined
  if (reasoning.mode === 'disabled') return 0
  if (reasoning.budgetTokens !== undefined) return reasoning.budgetTokens
  if (reasoning.effort) return EFFORT_BUDGET[reasoning.effort]
  return reasoning.mode === 'adaptive' ? EFFORT_BUDGET.medium : undefined
}

/** The effort band a thinking budget falls in; undefined for no thinking. */
export function effortForBudget(budget: number): 'low' | 'medium' | 'high' | undefined {
  if (budget <= 0) return undefined
  return budget <= 2048 ? 'low' : budget <= 12000 ? 'medium' : 'high'
}

/**
 * OpenAI's `reasoning_effort` for the canonical controls. An effort wins over a budget (it is the knob OpenAI
 * has); 'max' becomes 'high', the top every reasoning model accepts; adaptive with no effort is 'medium'.
 * Thinking switched off sends nothing: 'none' is refused by models before gpt-5.1 and `reasoning_effort` at all
 * by non-reasoning models, while an explicit 'none' effort (an OpenAI client's own word) passes.
 */
export function effortForReasoning(reasoning: CanonicalRequest['reasoning']): Exclude<ReasoningEffort, 'max'> | undefined {
  if (!reasoning || reasoning.mode === 'disabled') return undefined
  if (reasoning.effort) return reasoning.effort === 'max' ? 'high' : reasoning.effort
  if (reasoning.budgetTokens !== undefined) return effortForBudget(reasoning.budgetTokens)
  return reasoning.mode === 'adaptive' ? 'medium' : undefined
}

/** The id shown to the client: the gateway's id under the format's usual prefix. */
export function prefixedId(prefix: string, id: string): string {
  return id.startsWith(prefix) ? id : `${prefix}${id}`
}
