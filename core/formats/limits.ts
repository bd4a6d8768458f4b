/**
 * Output-token limits: what a request body in any format asks for at most, and lowering a canonical request to
 * a model's output limit. Budgets, the rate limiter and translation read the cap through these, so they agree.
 */
import type { WireFormat } from './types.ts'
import { budgetForReasoning, isRecord, type CanonicalRequest } from './canonical.ts'

/** A token count as a body gives it: a finite number, not negative; anything else is absent. */
function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

/** How many answers a request asks for: its count when above 1, else 1. */
function answerCount(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 1 ? value : 1
}

/**
 * An OpenAI chat body's cap per answer. `max_completion_tokens` wins over `max_tokens`: reasoning models take
 * only the former, and it counts reasoning too. The chat decoder reads its `maxTokens` through this.
 */
export function openaiChatMaxTokens(body: Record<string, unknown>): number | undefined {
  return tokenCount(body.max_completion_tokens) ?? tokenCount(body.max_tokens)
}

/** A request's cap per answer (undefined when it sets none) and how many answers it asks for. */
export interface OutputCap {
  cap: number | undefined
  answers: number
}

type OutputCapReader = (body: Record<string, unknown>) => OutputCap

function geminiOutputCap(body: Record<string, unknown>): OutputCap {
  // Gemini reads proto field names in either spelling.
  const config = body.generationConfig ?? body.generation_config
  if (!isRecord(config)) return { cap: undefined, answers: 1 }
  return { cap: tokenCount(config.maxOutputTokens ?? config.max_output_tokens), answers: answerCount(config.candidateCount ?? config.candidate_count) }
}

// Keyed by name rather than switched on: a format without an entry (embeddings) generates no text.
const OUTPUT_CAP: Partial<Record<WireFormat, OutputCapReader>> = {
  'openai-chat': (body) => ({ cap: openaiChatMaxTokens(body), answers: answerCount(body.n) }),
  'openai-responses': (body) => ({ cap: tokenCount(body.max_output_tokens), answers: 1 }),
  'anthropic-messages': (body) => ({ cap: tokenCount(body.max_tokens), answers: 1 }),
  gemini: geminiOutputCap,
  'bedrock-converse': (body) => ({ cap: isRecord(body.inferenceConfig) ? tokenCount(body.inferenceConfig.maxTokens) : undefined, answers: 1 }),
}

/** The cap per answer a body of `format` sets, and how many answers it asks for. */
export function outputCapOf(body: Record<string, unknown>, format: WireFormat): OutputCap {
  return (isRecord(body) ? OUTPUT_CAP[format]?.(body) : undefined) ?? { cap: undefined, answers: 1 }
}

/**
 * The most output tokens a request body of `format` may produce, all answers together; undefined when the
 * body sets no cap (the provider's default then applies) or the format generates no text (embeddings).
 */
export function requestedOutputTokens(body: Record<string, unknown>, format: WireFormat): number | undefined {
  const { cap, answers } = outputCapOf(body, format)
  return cap === undefined ? undefined : cap * answers
}

/**
 * Lowers a canonical request to a model's output limit: `maxTokens` above `limit` becomes `limit`, and a
 * thinking budget is lowered to stay below the cap (Anthropic refuses a budget that is not). When thinking is
 * on and no cap was given, the limit becomes the cap, so an encoder that makes room for thinking fits it under
 * the limit instead of raising the cap past it. Returns whether anything changed.
 */
export function clampOutputTokens(request: CanonicalRequest, limit: number): boolean {
  let clamped = false
  if (request.maxTokens !== undefined && request.maxTokens > limit) {
    request.maxTokens = limit
    clamped = true
  }
  const thinks = (budgetForReasoning(request.reasoning) ?? 0) > 0
  if (thinks && request.maxTokens === undefined) {
    request.maxTokens = limit
    clamped = true
  }
  const budget = request.reasoning?.budgetTokens
  const cap = request.maxTokens ?? limit
  if (budget !== undefined && budget >= cap) {
    request.reasoning!.budgetTokens = Math.max(0, cap - 1)
    clamped = true
  }
  return clamped
}

/** Lowers `value` to `limit`; whether it did. */
function lower(target: Record<string, unknown>, field: string, limit: number): boolean {
  const value = tokenCount(target[field])
  if (value === undefined || value <= limit) return false
  target[field] = limit
  return true
}

/**
 * Lowers the output cap of a request body in the provider's `format` to a model's limit, in place, keeping an
 * Anthropic thinking budget below the new cap (or turning thinking off when fewer than 1024 tokens would be
 * left for it, the API's minimum). Returns whether it changed anything.
 */
export function clampBodyOutputTokens(body: Record<string, unknown>, format: WireFormat, limit: number): boolean {
  switch (format) {
    case 'openai-chat':
      return lower(body, 'max_completion_tokens', limit) || lower(body, 'max_tokens', limit)
    case 'openai-responses':
      return lower(body, 'max_output_tokens', limit)
    case 'gemini': {
      // A copy: on passthrough the nested object is still the client's own body.
      const config = isRecord(body.generationConfig) ? { ...body.generationConfig } : undefined
      if (!config || !lower(config, 'maxOutputTokens', limit)) return false
      body.generationConfig = config
      return true
    }
    case 'anthropic-messages': {
      if (!lower(body, 'max_tokens', limit)) return false
      const thinking = body.thinking
      if (isRecord(thinking) && thinking.type === 'enabled' && typeof thinking.budget_tokens === 'number' && thinking.budget_tokens >= limit) {
        body.thinking = limit - 1 >= 1024 ? { ...thinking, budget_tokens: limit - 1 } : { type: 'disabled' }
      }
      return true
    }
    case 'bedrock-converse': {
      const config = isRecord(body.inferenceConfig) ? { ...body.inferenceConfig } : undefined
      if (!config || !lower(config, 'maxTokens', limit)) return false
      body.inferenceConfig = config
      const fields = isRecord(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {}
      const thinking = fields.thinking
      if (isRecord(thinking) && typeof thinking.budget_tokens === 'number' && thinking.budget_tokens >= limit) {
        body.additionalModelRequestFields = limit - 1 >= 1024 ? { ...fields, thinking: { ...thinking, budget_tokens: limit - 1 } } : { ...fields, thinking: { type: 'disabled' } }
      }
      return true
    }
    default:
      return false
  }
}

/**
 * Removes the reasoning controls of a request body in `format` (for a model that refuses them), in place; a copy
 * of a nested config, never the client's own object. Returns whether there were any.
 */
export function dropReasoningControls(body: Record<string, unknown>, format: WireFormat): boolean {
  switch (format) {
    case 'openai-chat':
      return 'reasoning_effort' in body && delete body.reasoning_effort
    case 'openai-responses':
      return 'reasoning' in body && delete body.reasoning
    case 'anthropic-messages':
      return 'thinking' in body && delete body.thinking
    case 'gemini': {
      if (!isRecord(body.generationConfig) || !('thinkingConfig' in body.generationConfig)) return false
      const { thinkingConfig: _dropped, ...config } = body.generationConfig
      body.generationConfig = config
      return true
    }
    case 'bedrock-converse': {
      if (!isRecord(body.additionalModelRequestFields) || !('thinking' in body.additionalModelRequestFields)) return false
      const { thinking: _dropped, ...fields } = body.additionalModelRequestFields
      body.additionalModelRequestFields = fields
      return true
    }
    default:
      return false
  }
}
