import { describe, expect, it } from 'vitest'
import { estimateRequestTokens } from '../../plugins/governor/estimate.ts'
import { formatReset } from '../../plugins/governor/headers.ts'
import { testContext } from '../../testing/index.ts'

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

// The shared estimates themselves are tested in test/core/estimate.test.ts; this is what the governor reserves.
describe('token reservation', () => {
  it('is the core input estimate plus the output cap (else the default); nothing for embeddings output', () => {
    const reserve = (body: Record<string, unknown>, api?: 'openai-embeddings') => estimateRequestTokens(testContext({ body, api }), 100)
    // {"messages":[],"max_tokens":7}: keys 8 + 10 characters, 5 tokens.
    expect(reserve({ messages: [], max_tokens: 7 })).toBe(5 + 7)
    // + "max_completion_tokens" (21): 39 characters, 10 tokens; that cap wins.
    expect(reserve({ messages: [], max_completion_tokens: 9, max_tokens: 7 })).toBe(10 + 9)
    // A negative cap is no cap: the default applies.
    expect(reserve({ messages: [], max_tokens: -3 })).toBe(5 + 100)
    // Embeddings: the input strings only ("abcd", 1 token), no output.
    expect(reserve({ model: 'e', input: 'abcd' }, 'openai-embeddings')).toBe(1)
  })
})
