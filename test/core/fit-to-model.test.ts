/**
 * The upstream body fits what the target model can do, from the `models` service (the usage plugin ships a
 * table): an output cap above the model's limit is lowered and the response says so; reasoning controls a
 * translation produced are dropped for a model that refuses them, while a client's own same-format request is
 * sent as it asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin } from '../../core/index.ts'
import { createTestGateway, scriptedProvider, type ScriptedProvider, type TestGateway } from '../../testing/index.ts'

// What a plugin (usage(), in a real config) says about the models.
const catalog = definePlugin(() => ({
  name: 'catalog',
  setup(gw) {
    gw.provide('models', { capabilities: (_provider, model) => (model === 'plain' ? { maxOutputTokens: 16_384, reasoning: false } : undefined) })
  },
}))

let gw: TestGateway
let provider: ScriptedProvider

beforeAll(async () => {
  provider = scriptedProvider({ name: 'up', replies: [{ text: 'ok' }] })
  gw = await createTestGateway({ plugins: [provider, catalog()] })
})
afterAll(() => gw?.close())

describe('fitting a request to its target model', () => {
  it('lowers Claude Code\'s 64,000-token cap and drops its thinking for a model that has neither', async () => {
    const response = await gw.messages({
      model: 'up/plain', max_tokens: 64_000, thinking: { type: 'enabled', budget_tokens: 31_999 },
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-sluice-max-tokens-clamped')).toBe('16384')
    const sent = provider.calls.at(-1)!.body
    expect(sent.max_completion_tokens ?? sent.max_tokens).toBe(16_384)
    expect(sent.reasoning_effort).toBeUndefined()
  })

  it('leaves a model it knows nothing about alone', async () => {
    const response = await gw.messages({ model: 'up/other', max_tokens: 64_000, thinking: { type: 'enabled', budget_tokens: 31_999 }, messages: [{ role: 'user', content: 'hi' }] })
    expect(response.headers.get('x-sluice-max-tokens-clamped')).toBeNull()
    expect(provider.calls.at(-1)!.body.reasoning_effort).toBe('high')
  })

  it('sends a client\'s own same-format reasoning controls as asked (only the cap is lowered)', async () => {
    await gw.chat({ model: 'up/plain', max_tokens: 50_000, reasoning_effort: 'low', messages: [{ role: 'user', content: 'hi' }] })
    const sent = provider.calls.at(-1)!.body
    expect(sent.max_tokens).toBe(16_384)
    expect(sent.reasoning_effort).toBe('low')
  })
})
