/** Bedrock and Vertex model ids, as each cloud names them, find their prices and capabilities in the shipped tables. */
import { describe, expect, it } from 'vitest'
import { createPricing, modelTable } from '../../plugins/usage/pricing.ts'
import { DEFAULT_MODEL_CAPABILITIES } from '../../plugins/usage/model-data.ts'

const pricing = createPricing()
const capabilities = modelTable(DEFAULT_MODEL_CAPABILITIES)

describe('cloud model ids in the price and capability tables', () => {
  it.each([
    ['bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku'],
    ['bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['bedrock', 'eu.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['bedrock', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5'],
    ['bedrock', 'us.amazon.nova-pro-v1:0', 'nova-pro'],
    ['bedrock', 'amazon.nova-micro-v1:0', 'nova-micro'],
    ['bedrock', 'us.meta.llama3-3-70b-instruct-v1:0', 'llama3-3-70b-instruct'],
    ['vertex', 'claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['vertex', 'claude-opus-4-1@20250805', 'claude-opus-4-1'],
    ['vertex', 'gemini-2.5-flash', 'gemini-2.5-flash'],
    ['vertex', 'gemini-2.0-flash-001', 'gemini-2.0-flash'],
  ])('%s/%s is priced as %s', (provider, model, base) => {
    expect(pricing.price(provider, model)).toBeDefined()
    expect(pricing.price(provider, model)).toEqual(pricing.price('any', base))
  })

  it('Claude on Bedrock keeps its output limit and reasoning; Nova takes no reasoning controls', () => {
    expect(capabilities('bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toEqual({ maxOutputTokens: 64_000, reasoning: true })
    expect(capabilities('bedrock', 'us.amazon.nova-pro-v1:0')).toEqual({ maxOutputTokens: 10_000, reasoning: false })
    expect(capabilities('vertex', 'claude-haiku-4-5@20251001')?.maxOutputTokens).toBe(64_000)
  })
})
