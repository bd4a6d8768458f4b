/** Which wire format a provider is sent: the client's own when spoken, else one of the same kind. */
import { describe, expect, it } from 'vitest'
import { providerFormatFor } from '../../core/formats/index.ts'

describe('providerFormatFor', () => {
  it('keeps the client format when the provider speaks it (passthrough)', () => {
    expect(providerFormatFor('anthropic-messages', ['anthropic-messages'])).toBe('anthropic-messages')
    expect(providerFormatFor('openai-embeddings', ['openai-chat', 'openai-embeddings'])).toBe('openai-embeddings')
  })

  it('sends embeddings to the provider\'s embeddings format and chat to its chat format', () => {
    expect(providerFormatFor('openai-embeddings', ['gemini', 'gemini-embeddings'])).toBe('gemini-embeddings')
    expect(providerFormatFor('openai-chat', ['gemini', 'gemini-embeddings'])).toBe('gemini')
    expect(providerFormatFor('anthropic-messages', ['gemini-embeddings', 'gemini'])).toBe('gemini')
  })

  it('falls back to the first format when none is of the same kind (translation then refuses it)', () => {
    expect(providerFormatFor('openai-embeddings', ['anthropic-messages'])).toBe('anthropic-messages')
  })
})
