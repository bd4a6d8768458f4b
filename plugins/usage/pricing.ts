/**
 * The `pricing` service: USD cost of a request's usage from the shipped table plus config overrides.
 *
 * Lookup, first hit wins: `provider/model` entries (with the model normalised step by step: lower case, vendor
 * prefixes and dates stripped), then a `provider/*` entry, then bare model entries in the same steps. Unknown
 * models cost nothing and are counted in `sluice_unpriced_requests_total{model}`; never an error.
 *
 * Usage convention (the core's, from OpenAI): `inputTokens` includes `cachedTokens`; `outputTokens` includes
 * `reasoningTokens`. Readers of other formats add their separate counts in.
 */
import { counter } from '../../core/index.ts'
import type { ModelPrice, Services, Usage } from '../../core/index.ts'
import { DEFAULT_PRICES, type PricePerMillion } from './pricing-data.ts'
import { labelGuard } from '../../core/index.ts'

export type PricingService = Services['pricing'] & {
  /** Like `cost`, but says whether to count an unknown model in the unpriced metric. */
  costOf(provider: string, model: string, usage: Usage, countUnpriced: boolean): number | undefined
}

const PER_MILLION = 1_000_000
const MEMO_LIMIT = 5_000

// Tried one at a time, repeatedly, until nothing more strips: `gemini-2.5-flash-preview-05-20` → `gemini-2.5-flash`.
const VERSION_SUFFIXES = [
  /-latest$/,
  /-\d{4}-\d{2}-\d{2}$/, // OpenAI: gpt-4o-2024-08-06
  /-\d{8}$/, // Anthropic: claude-sonnet-4-5-20250929
  /@\d{8}$/, // Vertex: claude-3-5-sonnet@20240620
  /-v\d+(?::\d+)?$/, // Bedrock: ...-v1:0
  /-\d{2}-\d{2}$/, // Gemini previews: -05-20
  /-preview$/,
  /-beta$/,
  /-exp(?:-\d+)?$/,
  /-\d{4}$/, // Mistral YYMM (mistral-large-2411), xAI MMDD (grok-4-0709), OpenAI gpt-4-0613
  /-\d{3}$/, // Gemini: gemini-2.0-flash-001
]
// Bedrock ids and inference profiles: `anthropic.claude-…`, `us.amazon.nova-pro-v1:0`, `eu.meta.llama3-…`.
const VENDOR_PREFIX = /^(?:(?:us|eu|apac|jp|au|global)\.)?(?:anthropic|mistral|deepseek|xai|google|openai|amazon|meta)\./

export function modelCandidates(model: string): string[] {
  let name = model.trim().toLowerCase()
  const out = [name]
  name = name.replace(/^models\//, '').replace(VENDOR_PREFIX, '')
  const slash = name.lastIndexOf('/')
  if (slash >= 0) name = name.slice(slash + 1).replace(VENDOR_PREFIX, '') // a Bedrock ARN ends in `inference-profile/us.anthropic.…`
  if (name !== out[0]) out.push(name)
  for (let changed = true; changed;) {
    changed = false
    for (const suffix of VERSION_SUFFIXES) {
      const next = name.replace(suffix, '')
      if (next !== name && next.length > 0) {
        name = next
        out.push(name)
        changed = true
        break
      }
    }
  }
  return out
}

export function perToken(price: PricePerMillion): ModelPrice {
  const converted: ModelPrice = { input: price.input / PER_MILLION, output: price.output / PER_MILLION }
  if (price.cachedInput !== undefined) converted.cachedInput = price.cachedInput / PER_MILLION
  return converted
}

/** USD for `usage` at `price`. Cached tokens are part of `inputTokens` and billed at the cache-read price. */
export function costFor(price: ModelPrice, usage: Usage): number {
  const cached = Math.min(Math.max(usage.cachedTokens, 0), Math.max(usage.inputTokens, 0))
  const uncached = Math.max(usage.inputTokens - cached, 0)
  return uncached * price.input + cached * (price.cachedInput ?? price.input) + Math.max(usage.outputTokens, 0) * price.output
}

/**
 * A table of per-model entries looked up the way prices are: `provider/model` (normalised step by step), then
 * `provider/*`, then the bare model in the same steps; memoised, bounded.
 */
export function modelTable<T>(entries: Record<string, T>): (provider: string, model: string) => T | undefined {
  const table = new Map<string, T>()
  for (const [model, value] of Object.entries(entries)) table.set(model.trim().toLowerCase(), value)
  const memo = new Map<string, T | null>()
  return (provider, model) => {
    const key = `${provider}\u0000${model}`
    const cached = memo.get(key)
    if (cached !== undefined) return cached ?? undefined
    const prefix = provider.trim().toLowerCase()
    const candidates = modelCandidates(model)
    let found = table.get(`${prefix}/*`)
    for (const name of candidates) {
      const hit = table.get(`${prefix}/${name}`)
      if (hit) { found = hit; break }
    }
    if (found === undefined) for (const name of candidates) if ((found = table.get(name)) !== undefined) break
    if (memo.size >= MEMO_LIMIT) memo.clear()
    memo.set(key, found ?? null)
    return found
  }
}

export function createPricing(overrides: Record<string, PricePerMillion> = {}): PricingService {
  const price = modelTable<ModelPrice>(Object.fromEntries(
    Object.entries({ ...DEFAULT_PRICES, ...overrides }).map(([model, entry]) => [model, perToken(entry)]),
  ))
  const unpriced = counter('sluice_unpriced_requests_total', 'Requests whose model has no known price (recorded at cost 0)', ['model'])
  const unpricedLabel = labelGuard(500)

  function costOf(provider: string, model: string, usage: Usage, countUnpriced: boolean): number | undefined {
    if (usage.inputTokens <= 0 && usage.outputTokens <= 0) return 0
    const found = price(provider, model)
    if (found) return costFor(found, usage)
    if (countUnpriced) unpriced.inc({ model: unpricedLabel(`${provider}/${model}`) })
    return undefined
  }

  return {
    price,
    costOf,
    cost: (provider, model, usage) => costOf(provider, model, usage, true),
  }
}
