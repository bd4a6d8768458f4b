import { describe, expect, it } from 'vitest'
import { registry } from '../../core/metrics.ts'
import { DEFAULT_PRICES } from '../../plugins/usage/pricing-data.ts'
import { createPricing, modelCandidates } from '../../plugins/usage/pricing.ts'
import { usage } from './helpers.ts'

async function unpricedCount(model: string): Promise<number> {
  const metric = registry.getSingleMetric('sluice_unpriced_requests_total')
  if (!metric) return 0
  const { values } = await metric.get()
  return values.find((v) => v.labels.model === model)?.value ?? 0
}

describe('pricing table', () => {
  const pricing = createPricing()

  it('prices a known model from the list price per 1M tokens', () => {
    const cost = pricing.cost('openai', 'gpt-4o', usage({ inputTokens: 1000, outputTokens: 500 }))
    expect(cost).toBeCloseTo(1000 * 2.5e-6 + 500 * 10e-6, 12)
    expect(pricing.price('openai', 'gpt-4o')).toEqual({ input: 2.5e-6, output: 10e-6, cachedInput: 1.25e-6 })
  })

  it('bills cached input tokens (part of inputTokens) at the cache-read price', () => {
    const cost = pricing.cost('anthropic', 'claude-sonnet-4-5', usage({ inputTokens: 10_000, cachedTokens: 8_000, outputTokens: 100 }))
    expect(cost).toBeCloseTo(2_000 * 3e-6 + 8_000 * 0.3e-6 + 100 * 15e-6, 12)
  })

  it.each([
    ['openai', 'gpt-4o-2024-08-06', 'gpt-4o'],
    ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['anthropic', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['anthropic', 'claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['vertex', 'claude-3-5-sonnet@20240620', 'claude-3-5-sonnet'],
    ['bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku'],
    ['gemini', 'models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['gemini', 'gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ['gemini', 'gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash'],
    ['mistral', 'mistral-large-2411', 'mistral-large'],
    ['mistral', 'mistral-small-latest', 'mistral-small'],
    ['xai', 'grok-4-0709', 'grok-4'],
    ['openrouter', 'deepseek/deepseek-chat', 'deepseek-chat'],
    ['openai', 'GPT-4o', 'gpt-4o'],
  ])('%s/%s is priced as %s', (provider, model, base) => {
    expect(pricing.price(provider, model)).toEqual(pricing.price('any', base))
    expect(pricing.price(provider, model)).toBeDefined()
  })

  it('does not collapse distinct models into each other', () => {
    expect(pricing.price('openai', 'gpt-4o-mini')).not.toEqual(pricing.price('openai', 'gpt-4o'))
    expect(pricing.price('openai', 'o3-mini')).not.toEqual(pricing.price('openai', 'o3'))
    expect(modelCandidates('gpt-4.1-nano')).toEqual(['gpt-4.1-nano'])
  })

  it('resolves every shipped entry to a non-negative price', () => {
    for (const [model, price] of Object.entries(DEFAULT_PRICES)) {
      expect(price.input, model).toBeGreaterThanOrEqual(0)
      expect(price.output, model).toBeGreaterThanOrEqual(0)
      expect(pricing.price('x', model), model).toEqual({
        input: price.input / 1e6, output: price.output / 1e6, ...(price.cachedInput === undefined ? {} : { cachedInput: price.cachedInput / 1e6 }),
      })
    }
  })

  it('takes config overrides in USD per 1M tokens: per model, per provider and per provider wildcard', () => {
    const custom = createPricing({
      'gpt-4o': { input: 1, output: 2 },
      'azure/gpt-4o': { input: 3, output: 4, cachedInput: 0.5 },
      'ollama/*': { input: 0, output: 0 },
      'my-model': { input: 7, output: 9 },
    })
    expect(custom.price('openai', 'gpt-4o-2024-08-06')).toEqual({ input: 1e-6, output: 2e-6 })
    expect(custom.price('azure', 'gpt-4o-2024-08-06')).toEqual({ input: 3e-6, output: 4e-6, cachedInput: 0.5e-6 })
    expect(custom.cost('ollama', 'llama3.2', usage({ inputTokens: 1000, outputTokens: 1000 }))).toBe(0)
    expect(custom.cost('local', 'my-model', usage({ inputTokens: 1_000_000, outputTokens: 0 }))).toBeCloseTo(7, 9)
    // Defaults are still there for everything not overridden.
    expect(custom.price('anthropic', 'claude-haiku-4-5')).toEqual(pricing.price('anthropic', 'claude-haiku-4-5'))
  })

  it('prices an unknown model at undefined (recorded as 0) and counts it, never throwing', async () => {
    const model = `mystery-${Date.now()}`
    const before = await unpricedCount(`acme/${model}`)
    expect(pricing.cost('acme', model, usage({ inputTokens: 10, outputTokens: 10 }))).toBeUndefined()
    expect(pricing.cost('acme', model, usage({ inputTokens: 10, outputTokens: 10 }))).toBeUndefined()
    expect(await unpricedCount(`acme/${model}`)).toBe(before + 2)
  })

  it('costs nothing and counts nothing when no tokens were used', async () => {
    const model = `never-called-${Date.now()}`
    expect(pricing.cost('acme', model, usage())).toBe(0)
    expect(await unpricedCount(`acme/${model}`)).toBe(0)
  })
})
