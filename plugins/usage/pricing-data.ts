/**
 * List prices shipped with Sluice, in USD per 1M tokens (converted to USD per token when loaded).
 *
 * Checked against the providers' public price pages as of PRICES_AS_OF. Prices change: override or extend any
 * entry in the config (`usage({ prices: { 'gpt-4o': { input: 2.5, output: 10 } } })`, also per provider:
 * `'azure/gpt-4o'`, or a whole provider: `'ollama/*'`). `cachedInput` is the price of a cache *read*; when it is
 * missing cached tokens cost the input price. Not modelled: cache writes (Anthropic charges 1.25× input), batch
 * discounts, long-context tiers (Gemini Pro above 200k prompt tokens), per-request tool fees, audio and images.
 */
export const PRICES_AS_OF = '2025-11-20'

export interface PricePerMillion {
  input: number
  output: number
  cachedInput?: number
}

const p = (input: number, output: number, cachedInput?: number): PricePerMillion =>
  cachedInput === undefined ? { input, output } : { input, output, cachedInput }

/** Keyed by the model name each provider's API uses, without dates (lookups strip them). */
export const DEFAULT_PRICES: Record<string, PricePerMillion> = {
  // ——— OpenAI ———
  'gpt-5.1': p(1.25, 10, 0.125),
  'gpt-5': p(1.25, 10, 0.125),
  'gpt-5-mini': p(0.25, 2, 0.025),
  'gpt-5-nano': p(0.05, 0.4, 0.005),
  'gpt-5-chat-latest': p(1.25, 10, 0.125),
  'gpt-5-pro': p(15, 120),
  'gpt-4.1': p(2, 8, 0.5),
  'gpt-4.1-mini': p(0.4, 1.6, 0.1),
  'gpt-4.1-nano': p(0.1, 0.4, 0.025),
  'gpt-4o': p(2.5, 10, 1.25),
  'gpt-4o-mini': p(0.15, 0.6, 0.075),
  'chatgpt-4o-latest': p(5, 15),
  'o1': p(15, 60, 7.5),
  'o1-mini': p(1.1, 4.4, 0.55),
  'o1-pro': p(150, 600),
  'o3': p(2, 8, 0.5),
  'o3-mini': p(1.1, 4.4, 0.55),
  'o3-pro': p(20, 80),
  'o4-mini': p(1.1, 4.4, 0.275),
  'gpt-4-turbo': p(10, 30),
  'gpt-4-turbo-preview': p(10, 30),
  'gpt-4-1106-preview': p(10, 30),
  'gpt-4-0125-preview': p(10, 30),
  'gpt-4': p(30, 60),
  'gpt-3.5-turbo': p(0.5, 1.5),
  'text-embedding-3-small': p(0.02, 0),
  'text-embedding-3-large': p(0.13, 0),
  'text-embedding-ada-002': p(0.1, 0),

  // ——— Anthropic (cache reads at 0.1× input) ———
  'claude-opus-4-5': p(5, 25, 0.5),
  'claude-opus-4-1': p(15, 75, 1.5),
  'claude-opus-4': p(15, 75, 1.5),
  'claude-sonnet-4-5': p(3, 15, 0.3),
  'claude-sonnet-4': p(3, 15, 0.3),
  'claude-haiku-4-5': p(1, 5, 0.1),
  'claude-3-7-sonnet': p(3, 15, 0.3),
  'claude-3-5-sonnet': p(3, 15, 0.3),
  'claude-3-5-haiku': p(0.8, 4, 0.08),
  'claude-3-opus': p(15, 75, 1.5),
  'claude-3-haiku': p(0.25, 1.25, 0.03),

  // ——— Google Gemini (prompts up to 200k tokens) ———
  'gemini-3-pro-preview': p(2, 12, 0.2),
  'gemini-2.5-pro': p(1.25, 10, 0.125),
  'gemini-2.5-flash': p(0.3, 2.5, 0.03),
  'gemini-2.5-flash-lite': p(0.1, 0.4, 0.01),
  'gemini-2.0-flash': p(0.1, 0.4, 0.025),
  'gemini-2.0-flash-lite': p(0.075, 0.3),
  'gemini-1.5-pro': p(1.25, 5, 0.3125),
  'gemini-1.5-flash': p(0.075, 0.3, 0.01875),
  'gemini-embedding-001': p(0.15, 0),
  'text-embedding-004': p(0, 0),

  // ——— Amazon Bedrock's own models (on-demand, us-east-1; Claude on Bedrock and Vertex AI is priced as Anthropic's list above) ———
  'nova-premier': p(2.5, 12.5, 0.625),
  'nova-pro': p(0.8, 3.2, 0.2),
  'nova-lite': p(0.06, 0.24, 0.015),
  'nova-micro': p(0.035, 0.14, 0.00875),
  'llama3-3-70b-instruct': p(0.72, 0.72),
  'llama4-maverick-17b-instruct': p(0.24, 0.97),
  'llama4-scout-17b-instruct': p(0.17, 0.66),

  // ——— Mistral ———
  'mistral-large': p(2, 6),
  'mistral-medium': p(0.4, 2),
  'mistral-small': p(0.1, 0.3),
  'magistral-medium': p(2, 5),
  'magistral-small': p(0.5, 1.5),
  'codestral': p(0.3, 0.9),
  'devstral-medium': p(0.4, 2),
  'devstral-small': p(0.1, 0.3),
  'pixtral-large': p(2, 6),
  'pixtral-12b': p(0.15, 0.15),
  'ministral-8b': p(0.1, 0.1),
  'ministral-3b': p(0.04, 0.04),
  'open-mistral-nemo': p(0.15, 0.15),
  'mistral-embed': p(0.1, 0),

  // ——— DeepSeek (V3.2 prices; cache hits at 0.1× input) ———
  'deepseek-chat': p(0.28, 0.42, 0.028),
  'deepseek-reasoner': p(0.28, 0.42, 0.028),

  // ——— xAI ———
  'grok-4': p(3, 15, 0.75),
  'grok-4-fast-reasoning': p(0.2, 0.5, 0.05),
  'grok-4-fast-non-reasoning': p(0.2, 0.5, 0.05),
  'grok-4-1-fast-reasoning': p(0.2, 0.5, 0.05),
  'grok-4-1-fast-non-reasoning': p(0.2, 0.5, 0.05),
  'grok-code-fast-1': p(0.2, 1.5, 0.02),
  'grok-3': p(3, 15, 0.75),
  'grok-3-mini': p(0.3, 0.5, 0.075),
}
