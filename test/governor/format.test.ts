import { describe, expect, it } from 'vitest'
import { estimatePromptTokens, estimateRequestTokens } from '../../plugins/governor/estimate.ts'
import { formatReset } from '../../plugins/governor/headers.ts'
import { context } from './helpers.ts'

describe('reset header format (as OpenAI writes it)', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [0.2, '1ms'],
    [120, '120ms'],
    [999.4, '1000ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [8571.43, '8.572s'],
    [360_000, '6m0s'],
    [61_500, '1m1.5s'],
    [3_723_000, '1h2m3s'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatReset(ms)).toBe(text)
  })
})

describe('token estimate', () => {
  it('counts message text / 4 plus a little per message, across chat, Anthropic and embeddings bodies', () => {
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: 'x'.repeat(400) }] })).toBe(104)
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(40) }, { type: 'image_url', image_url: {} }] }] })).toBe(10 + 4 + 256)
    expect(estimatePromptTokens({ system: 'x'.repeat(8), messages: [] })).toBe(2)
    expect(estimatePromptTokens({ input: ['abcd', 'efgh'] })).toBe(2)
    expect(estimatePromptTokens({ messages: 'not a list', input: 42 })).toBe(0)
  })

  it('adds the client\'s output cap, else the default; nothing for embeddings', () => {
    expect(estimateRequestTokens(context({ body: { messages: [], max_tokens: 7 } }), 100)).toBe(7)
    expect(estimateRequestTokens(context({ body: { messages: [], max_completion_tokens: 9, max_tokens: 7 } }), 100)).toBe(9)
    expect(estimateRequestTokens(context({ body: { messages: [], max_tokens: -3 } }), 100)).toBe(100)
    expect(estimateRequestTokens(context({ api: 'openai-embeddings', body: { input: 'abcd' } }), 100)).toBe(1)
  })
})
