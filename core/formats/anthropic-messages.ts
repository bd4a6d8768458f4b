/**
 * Anthropic Messages: errors, usage, and the codec to and from the canonical shape (requests, responses,
 * SSE events message_start ... message_stop).
 */
import type { SSEEvent } from '../types.ts'
import type { GatewayError } from '../errors.ts'
import type { ErrorInfo, SSEFrame, TranslateInfo, WireCodec } from './types.ts'
import { typeForStatus } from './openai-chat.ts'
import {
  badRequest, budgetForReasoning, effortForBudget, emptyUsage, isRecord, mergeUsage, numberOrUndefined,
  parseArguments, prefixedId, safeId,
  type CanonicalMessage, type CanonicalPart, type CanonicalRequest, type CanonicalResponse,
  type CanonicalStreamEvent, type CanonicalTool, type CanonicalToolChoice, type CanonicalUsage, type FinishReason,
  type ImagePart, type ImageSource, type ReasoningEffort, type StreamDecoder, type StreamEncoder, type TextPart,
  type ThinkingPart, type ToolResultPart,
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

function untranslatableBlock(at: string, type: unknown): GatewayError {
  return badRequest(`${at}: '${String(type)}' blocks cannot be translated to this provider`)
}

/** A `search_result` block as text the model can read: its title and source, then its text blocks. */
function searchResultText(block: Record<string, any>): TextPart {
  const texts = Array.isArray(block.content) ? block.content.filter((b: unknown) => isRecord(b) && b.type === 'text').map((b: any) => String(b.text ?? '')) : []
  return { type: 'text', text: `Search result "${String(block.title ?? '')}" (${String(block.source ?? '')}):\n${texts.join('\n')}` }
}

function toolResultContent(content: unknown, where: string): Array<TextPart | ImagePart> {
  if (content === undefined || content === null) return []
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  if (!Array.isArray(content)) throw badRequest(`${where}.content must be a string or an array of blocks`)
  return content.map((block, j) => {
    const at = `${where}.content.${j}`
    if (!isRecord(block)) throw badRequest(`${at} must be an object`)
    switch (block.type) {
      case 'text': return { type: 'text', text: String(block.text ?? '') }
      case 'image': return imageFromAnthropic(block, at)
      case 'search_result': return searchResultText(block)
      default: throw untranslatableBlock(at, block.type)
    }
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

/** One content block of a user or assistant turn. `cache_control` and `citations` are dropped wherever they sit. */
function partFromBlock(block: Record<string, any>, at: string, ordinal: number): CanonicalPart {
  switch (block.type) {
    case 'text': return { type: 'text', text: String(block.text ?? '') }
    case 'image': return imageFromAnthropic(block, at)
    case 'search_result': return searchResultText(block)
    case 'tool_use':
      return { type: 'tool_call', id: String(block.id ?? safeId('toolu_', 'm', ordinal)), name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) }
    case 'tool_result':
      if (typeof block.tool_use_id !== 'string') throw badRequest(`${at}.tool_use_id: field required`)
      return { type: 'tool_result', toolCallId: block.tool_use_id, content: toolResultContent(block.content, at), ...(block.is_error ? { isError: true } : {}) }
    case 'thinking': return { type: 'thinking', text: String(block.thinking ?? ''), signature: block.signature }
    case 'redacted_thinking': return { type: 'thinking', text: '', redacted: String(block.data ?? '') }
    default: throw untranslatableBlock(at, block.type)
  }
}

/** A system prompt's texts: a string or text blocks, one text per block; empty ones are skipped. */
function systemTexts(content: unknown, where: string): string[] {
  if (typeof content === 'string') return content ? [content] : []
  if (!Array.isArray(content)) throw badRequest(`${where} must be a string or an array of text blocks`)
  return content.flatMap((block, j) => {
    if (!isRecord(block) || block.type !== 'text') throw untranslatableBlock(`${where}.${j}`, isRecord(block) ? block.type : typeof block)
    const text = String(block.text ?? '')
    return text ? [text] : []
  })
}

/** A `role: 'system'` entry that asked to be shown only until the next user turn, and one has come. */
function clearedSystemEntry(message: Record<string, any>, index: number, lastUserIndex: number): boolean {
  return message.clear_at === 'next_user_message' && index < lastUserIndex
}

/**
 * The turns of an Anthropic request. `role: 'system'` entries among them (Claude Code's agent and skill
 * listings) are appended to `system`, after the top-level prompt, in order. Their position is kept for no
 * target: Anthropic takes them mid-conversation only on some models, Gemini has only `systemInstruction`, and
 * the chat templates of many OpenAI-compatible servers refuse a system message that is not first. What is lost
 * is their "from here on" scope, and the cached prompt prefix on the one request where a new one appears. The
 * turns on either side may then share a role: each encoder merges or accepts that.
 */
function decodeTurns(list: unknown[], system: string[]): CanonicalMessage[] {
  const lastUserIndex = list.findLastIndex((m) => isRecord(m) && m.role === 'user')
  const messages: CanonicalMessage[] = []
  list.forEach((message, i) => {
    const where = `messages.${i}`
    if (!isRecord(message)) throw badRequest(`${where} must be an object`)
    if (message.role === 'system') {
      if (!clearedSystemEntry(message, i, lastUserIndex)) system.push(...systemTexts(message.content, `${where}.content`))
      return
    }
    if (message.role !== 'user' && message.role !== 'assistant') throw badRequest(`${where}.role must be 'user', 'assistant' or 'system'`)
    const content = contentBlocks(message.content, where).map((block, j) => partFromBlock(block, `${where}.content.${j}`, i * 100 + j))
    messages.push({ role: message.role, content })
  })
  return messages
}

const EFFORTS = new Set<unknown>(['low', 'medium', 'high', 'xhigh', 'max'] satisfies ReasoningEffort[])

/**
 * `thinking` and `output_config.effort` as canonical reasoning. `between_tools` is thinking off (only progress
 * notes come back as thinking), so it reads as disabled.
 */
function reasoningFromAnthropic(body: Record<string, unknown>): CanonicalRequest['reasoning'] {
  const reasoning: NonNullable<CanonicalRequest['reasoning']> = {}
  const thinking = isRecord(body.thinking) ? body.thinking : {}
  if (thinking.type === 'enabled' && typeof thinking.budget_tokens === 'number') reasoning.budgetTokens = thinking.budget_tokens
  else if (thinking.type === 'adaptive') reasoning.mode = 'adaptive'
  else if (thinking.type === 'disabled' || thinking.type === 'between_tools') reasoning.mode = 'disabled'
  const effort = isRecord(body.output_config) ? body.output_config.effort : undefined
  if (EFFORTS.has(effort)) reasoning.effort = effort as ReasoningEffort
  if ((reasoning.budgetTokens !== undefined || reasoning.mode === 'adaptive') && thinking.display !== 'omitted') reasoning.showThinking = true
  return Object.keys(reasoning).length ? reasoning : undefined
}

/** A client tool has no `type` or `type: 'custom'`; anything else is a tool Anthropic runs itself. */
function toolFromAnthropic(tool: unknown, k: number): CanonicalTool {
  const onlyClientTools = 'only client tools (name, description, input_schema) can be translated to this provider'
  if (!isRecord(tool) || typeof tool.name !== 'string') throw badRequest(`tools.${k}: ${onlyClientTools}`, 'tools')
  if (tool.type != null && tool.type !== 'custom') {
    throw badRequest(`tools.${k}: '${tool.name}' is an Anthropic server tool (${String(tool.type)}); ${onlyClientTools}`, 'tools')
  }
  return { name: tool.name, description: tool.description, parameters: tool.input_schema }
}

function toolChoiceFromAnthropic(choice: Record<string, unknown>): CanonicalToolChoice | undefined {
  if (choice.type === 'tool' && typeof choice.name === 'string') return { type: 'tool', name: choice.name }
  const map: Record<string, CanonicalToolChoice> = { auto: { type: 'auto' }, any: { type: 'required' }, none: { type: 'none' } }
  return map[String(choice.type)]
}

/** Anthropic's structured output (`output_config.format`), which the other formats carry as a JSON schema. */
function responseFormatFromAnthropic(body: Record<string, unknown>): CanonicalRequest['responseFormat'] {
  const format = isRecord(body.output_config) ? body.output_config.format : undefined
  return isRecord(format) && format.type === 'json_schema' && isRecord(format.schema) ? { type: 'json_schema', schema: format.schema } : undefined
}

/** Decodes an Anthropic Messages request body. */
export function anthropicRequestToCanonical(body: Record<string, unknown>): CanonicalRequest {
  if (!Array.isArray(body.messages)) throw badRequest('messages: field required', 'messages')
  const system = body.system === undefined || body.system === null ? [] : systemTexts(body.system, 'system')
  const messages = decodeTurns(body.messages, system)

  const request: CanonicalRequest = { model: typeof body.model === 'string' ? body.model : undefined, system, messages, stream: body.stream === true }
  if (Array.isArray(body.tools) && body.tools.length) request.tools = body.tools.map(toolFromAnthropic)
  if (isRecord(body.tool_choice)) {
    request.toolChoice = toolChoiceFromAnthropic(body.tool_choice)
    if (body.tool_choice.disable_parallel_tool_use === true) request.parallelToolCalls = false
  }
  request.responseFormat = responseFormatFromAnthropic(body)
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) request.stop = body.stop_sequences.filter((s): s is string => typeof s === 'string')
  request.temperature = numberOrUndefined(body.temperature)
  request.topP = numberOrUndefined(body.top_p)
  request.topK = numberOrUndefined(body.top_k)
  request.maxTokens = numberOrUndefined(body.max_tokens)
  request.reasoning = reasoningFromAnthropic(body)
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

export function jsonInstruction(format: CanonicalRequest['responseFormat']): string | undefined {
  if (format?.type === 'json_object') return JSON_OBJECT_INSTRUCTION
  if (format?.type === 'json_schema') {
    return `${JSON_OBJECT_INSTRUCTION} It must match this JSON Schema:\n${JSON.stringify(format.schema ?? {})}`
  }
  return undefined
}

type AnthropicTurn = { role: 'user' | 'assistant'; content: Record<string, unknown>[] }

const isThinkingBlock = (block: Record<string, unknown> | undefined) => block?.type === 'thinking' || block?.type === 'redacted_thinking'

function anthropicThinkingBlock(part: ThinkingPart): Record<string, unknown> | undefined {
  if (part.redacted) return { type: 'redacted_thinking', data: part.redacted }
  // Anthropic only takes back thinking it signed itself.
  return part.signature ? { type: 'thinking', thinking: part.text, signature: part.signature } : undefined
}

function anthropicBlocks(message: CanonicalMessage, i: number): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = []
  for (const part of message.content) {
    switch (part.type) {
      case 'text': if (part.text) blocks.push({ type: 'text', text: part.text }); break
      case 'image': blocks.push(anthropicImage(part.source)); break
      case 'tool_call':
        blocks.push({ type: 'tool_use', id: part.id, name: part.name, input: parseArguments(part.arguments, `messages[${i}]`) })
        break
      case 'tool_result': blocks.push(anthropicToolResult(part)); break
      case 'thinking': {
        const block = anthropicThinkingBlock(part)
        if (block) blocks.push(block)
        break
      }
    }
  }
  // Anthropic refuses an assistant turn that ends in thinking; one that is only thinking says nothing to keep.
  return blocks.every(isThinkingBlock) ? [] : blocks
}

/** The turns, same-role neighbours merged (Anthropic wants alternation), tool results first in their user turn. */
function anthropicTurns(messages: CanonicalMessage[]): AnthropicTurn[] {
  const turns: AnthropicTurn[] = []
  messages.forEach((message, i) => {
    const role = message.role === 'assistant' ? 'assistant' : 'user'
    const blocks = anthropicBlocks(message, i)
    if (!blocks.length) return
    const last = turns[turns.length - 1]
    if (last && last.role === role) last.content.push(...blocks)
    else turns.push({ role, content: blocks })
  })
  for (const turn of turns) {
    if (turn.role === 'user') turn.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'))
  }
  return turns
}

/**
 * With `thinking.type: 'enabled'`, Anthropic refuses a request whose open tool loop (tool results answering the
 * last assistant turn) comes from an assistant turn that does not start with its signed thinking block; its own
 * advice is to turn thinking off. History from an OpenAI client lacks the block: chat completions carry no
 * thinking, so the signature never reached the client.
 */
function openToolLoopLacksThinking(turns: AnthropicTurn[]): boolean {
  const last = turns[turns.length - 1]
  if (last?.role !== 'user' || last.content[0]?.type !== 'tool_result') return false
  return !isThinkingBlock(turns[turns.length - 2]?.content[0])
}

/** With thinking off, Anthropic refuses thinking blocks in a final (prefilled) assistant turn. */
function dropTrailingThinking(turns: AnthropicTurn[]): void {
  const last = turns[turns.length - 1]
  if (last?.role !== 'assistant') return
  last.content = last.content.filter((block) => !isThinkingBlock(block))
  if (!last.content.length) turns.pop()
}

/**
 * Claude models that refuse `thinking.type: 'enabled'` (a 400) and think adaptively, steered by
 * `output_config.effort`: Opus 4.7 and later, Mythos, and generation 5 on. They also refuse non-default
 * temperature, top_p and top_k. Earlier models take budgets, and some of them (Haiku 4.5) refuse the effort
 * field. The codec knows only the model name the request carries (the client's, which may be an alias); an
 * unknown name gets the budget form, which every Claude model before Opus 4.7 takes.
 */
const ADAPTIVE_ONLY_MODEL = /claude-(?:mythos|fable|opus-4-[7-9](?!\d)|[a-z]+-(?:[5-9]|[1-9]\d)(?!\d))/

function thinksAdaptivelyOnly(model: string | undefined): boolean {
  return !!model && ADAPTIVE_ONLY_MODEL.test(model)
}

/** Anthropic's smallest thinking budget. */
const MIN_THINKING_BUDGET = 1024

type AnthropicEffort = 'low' | 'medium' | 'high' | 'xhigh' | 'max'

interface ThinkingPlan {
  thinking?: Record<string, unknown>
  effort?: AnthropicEffort
  maxTokens: number
  on: boolean
}

const thinkingOff = (maxTokens: number): ThinkingPlan => ({ thinking: { type: 'disabled' }, maxTokens, on: false })

/** `output_config.effort` for adaptive thinking: the client's effort, else its budget's band, else the model's default. */
function anthropicEffort(reasoning: NonNullable<CanonicalRequest['reasoning']>): AnthropicEffort | undefined {
  const effort = reasoning.effort
  if (effort && effort !== 'none' && effort !== 'minimal') return effort
  return reasoning.budgetTokens !== undefined ? effortForBudget(reasoning.budgetTokens) : undefined
}

/**
 * A thinking budget and the max_tokens around it. Anthropic wants budget_tokens >= 1024 and below max_tokens.
 * A cap the client set bounds thinking and answer together (OpenAI's max_completion_tokens counts reasoning too,
 * and budgets and rate limits reserve by it), so the budget is lowered to fit below it, and thinking is turned
 * off when the cap leaves no room for 1024. With no cap, max_tokens is the budget plus the default answer room.
 */
function budgetThinking(budget: number, cap: number | undefined, turns: AnthropicTurn[]): ThinkingPlan {
  const wanted = Math.max(MIN_THINKING_BUDGET, budget)
  const maxTokens = cap ?? wanted + ANTHROPIC_DEFAULT_MAX_TOKENS
  const fitted = Math.min(wanted, maxTokens - 1)
  if (fitted < MIN_THINKING_BUDGET || openToolLoopLacksThinking(turns)) return thinkingOff(cap ?? ANTHROPIC_DEFAULT_MAX_TOKENS)
  return { thinking: { type: 'enabled', budget_tokens: fitted }, maxTokens, on: true }
}

/** `thinking`, `output_config.effort` and `max_tokens` for the canonical reasoning controls and the target model. */
function thinkingPlan(request: CanonicalRequest, turns: AnthropicTurn[]): ThinkingPlan {
  const reasoning = request.reasoning
  const cap = request.maxTokens
  if (!reasoning) return { maxTokens: cap ?? ANTHROPIC_DEFAULT_MAX_TOKENS, on: false }
  const budget = budgetForReasoning(reasoning) ?? 0
  // Disabled, effort 'none' or 'minimal', a zero budget: said explicitly, as generation-5 models think by default.
  if (budget <= 0) return thinkingOff(cap ?? ANTHROPIC_DEFAULT_MAX_TOKENS)
  if (thinksAdaptivelyOnly(request.model)) {
    // Adaptive turns may hold no thinking, so the open-tool-loop rule of budgets does not apply.
    return { thinking: { type: 'adaptive' }, effort: anthropicEffort(reasoning), maxTokens: cap ?? ANTHROPIC_DEFAULT_MAX_TOKENS, on: true }
  }
  return budgetThinking(budget, cap, turns)
}

function anthropicTools(request: CanonicalRequest, body: Record<string, unknown>): void {
  if (!request.tools?.length) return
  body.tools = request.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: t.parameters ?? { type: 'object', properties: {} } }))
  const choice = request.toolChoice
  const out: Record<string, unknown> = choice?.type === 'tool' ? { type: 'tool', name: choice.name }
    : choice?.type === 'required' ? { type: 'any' }
    : choice?.type === 'none' ? { type: 'none' }
    : { type: 'auto' }
  if (request.parallelToolCalls === false && out.type !== 'none') out.disable_parallel_tool_use = true
  if (choice || out.disable_parallel_tool_use) body.tool_choice = out
}

/**
 * Sampling goes only where Anthropic takes it: thinking refuses temperature, top_p and top_k, adaptive-only
 * models refuse them always, and newer models refuse temperature and top_p together (temperature wins).
 */
function anthropicSampling(request: CanonicalRequest, thinking: boolean, body: Record<string, unknown>): void {
  if (thinking || thinksAdaptivelyOnly(request.model)) return
  if (request.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, request.temperature))
  else if (request.topP !== undefined) body.top_p = request.topP
  if (request.topK !== undefined) body.top_k = request.topK
}

/** Encodes a canonical request as an Anthropic Messages body. */
export function canonicalToAnthropicRequest(request: CanonicalRequest): Record<string, unknown> {
  const messages = anthropicTurns(request.messages)
  const body: Record<string, unknown> = { model: request.model, messages }
  const system = request.system.filter((s) => s.length > 0).map((text) => ({ type: 'text', text }))
  const instruction = jsonInstruction(request.responseFormat)
  if (instruction) system.push({ type: 'text', text: instruction })
  if (system.length) body.system = system

  const plan = thinkingPlan(request, messages)
  if (!plan.on) dropTrailingThinking(messages)
  if (plan.thinking) body.thinking = plan.thinking
  if (plan.effort) body.output_config = { effort: plan.effort }
  body.max_tokens = plan.maxTokens

  anthropicTools(request, body)
  if (request.stop?.length) body.stop_sequences = request.stop
  anthropicSampling(request, plan.on, body)
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
