/**
 * Model capabilities shipped with Sluice, beside the prices: the most output tokens each model generates in one
 * answer, and whether it takes reasoning controls. The gateway lowers a request's output cap to the first before
 * sending it (a client such as Claude Code asks for 64,000 whatever the target), and drops translated reasoning
 * controls for a model that refuses them (Claude Code always asks for thinking; gpt-4o refuses
 * `reasoning_effort`). Keyed and looked up like the prices (dates and vendor prefixes stripped); override or extend
 * in the config: `usage({ models: { 'gpt-4o': { maxOutputTokens: 16384, reasoning: false } } })`.
 */
export interface ModelCapabilities {
  maxOutputTokens?: number
  /** Whether the model takes reasoning controls (effort, a thinking budget). Unknown models: assumed to. */
  reasoning?: boolean
}

/** A reasoning model with this output limit. */
const out = (maxOutputTokens: number): ModelCapabilities => ({ maxOutputTokens, reasoning: true })
/** A model that refuses reasoning controls. */
const plain = (maxOutputTokens: number): ModelCapabilities => ({ maxOutputTokens, reasoning: false })

export const DEFAULT_MODEL_CAPABILITIES: Record<string, ModelCapabilities> = {
  // ——— OpenAI ———
  'gpt-5.1': out(128_000),
  'gpt-5': out(128_000),
  'gpt-5-mini': out(128_000),
  'gpt-5-nano': out(128_000),
  'gpt-5-chat-latest': plain(16_384),
  'gpt-4.1': plain(32_768),
  'gpt-4.1-mini': plain(32_768),
  'gpt-4.1-nano': plain(32_768),
  'gpt-4o': plain(16_384),
  'gpt-4o-mini': plain(16_384),
  o3: out(100_000),
  'o3-mini': out(100_000),
  'o4-mini': out(100_000),
  o1: out(100_000),
  'gpt-3.5-turbo': plain(4_096),
  // ——— Anthropic ———
  'claude-opus-4-1': out(32_000),
  'claude-opus-4': out(32_000),
  'claude-sonnet-4-5': out(64_000),
  'claude-sonnet-4': out(64_000),
  'claude-haiku-4-5': out(64_000),
  'claude-3-7-sonnet': out(64_000),
  'claude-3-5-sonnet': plain(8_192),
  'claude-3-5-haiku': plain(8_192),
  'claude-3-haiku': plain(4_096),
  // ——— Google ———
  'gemini-2.5-pro': out(65_536),
  'gemini-2.5-flash': out(65_536),
  'gemini-2.5-flash-lite': out(65_536),
  'gemini-2.0-flash': plain(8_192),
  'gemini-2.0-flash-lite': plain(8_192),
  // ——— Amazon Bedrock's own models ———
  'nova-premier': plain(32_000),
  'nova-pro': plain(10_000),
  'nova-lite': plain(10_000),
  'nova-micro': plain(10_000),
  'llama3-3-70b-instruct': plain(8_192),
  // ——— Others ———
  'deepseek-chat': plain(8_192),
  'deepseek-reasoner': out(65_536),
}
