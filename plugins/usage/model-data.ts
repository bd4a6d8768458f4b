/**
 * Model capabilities shipped with Sluice, beside the prices: the most output tokens each model generates in one
 * answer. The gateway lowers a request's output cap to this before sending it (a client such as Claude Code asks
 * for 64,000 whatever the target). Keyed and looked up like the prices (dates and vendor prefixes stripped);
 * override or extend in the config: `usage({ models: { 'gpt-4o': { maxOutputTokens: 16384 } } })`.
 */
export interface ModelLimits {
  maxOutputTokens?: number
}

const out = (maxOutputTokens: number): ModelLimits => ({ maxOutputTokens })

export const DEFAULT_MODEL_LIMITS: Record<string, ModelLimits> = {
  // ——— OpenAI ———
  'gpt-5.1': out(128_000),
  'gpt-5': out(128_000),
  'gpt-5-mini': out(128_000),
  'gpt-5-nano': out(128_000),
  'gpt-5-chat-latest': out(16_384),
  'gpt-4.1': out(32_768),
  'gpt-4.1-mini': out(32_768),
  'gpt-4.1-nano': out(32_768),
  'gpt-4o': out(16_384),
  'gpt-4o-mini': out(16_384),
  o3: out(100_000),
  'o3-mini': out(100_000),
  'o4-mini': out(100_000),
  o1: out(100_000),
  'gpt-3.5-turbo': out(4_096),
  // ——— Anthropic ———
  'claude-opus-4-1': out(32_000),
  'claude-opus-4': out(32_000),
  'claude-sonnet-4-5': out(64_000),
  'claude-sonnet-4': out(64_000),
  'claude-haiku-4-5': out(64_000),
  'claude-3-7-sonnet': out(64_000),
  'claude-3-5-sonnet': out(8_192),
  'claude-3-5-haiku': out(8_192),
  'claude-3-haiku': out(4_096),
  // ——— Google ———
  'gemini-2.5-pro': out(65_536),
  'gemini-2.5-flash': out(65_536),
  'gemini-2.5-flash-lite': out(65_536),
  'gemini-2.0-flash': out(8_192),
  'gemini-2.0-flash-lite': out(8_192),
  // ——— Others ———
  'deepseek-chat': out(8_192),
  'deepseek-reasoner': out(65_536),
}
