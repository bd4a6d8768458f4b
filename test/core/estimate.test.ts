/**
 * The core's shared pre-call estimates, which the governor's token limits and the keys budget reserve against:
 *   - input: every string of the body, object keys included, at 4 characters per token (rounded up once for
 *     the whole body), each inline base64 / data-URL payload as TOKENS_PER_MEDIA (1024) whatever its size;
 *     embeddings count their `input` only;
 *   - output: the cap the translation would send (OpenAI `max_completion_tokens` over `max_tokens`, Anthropic
 *     `max_tokens`), else the caller's fallback, times `n`; 0 for embeddings.
 */
import { describe, expect, it } from 'vitest'
import { estimateInputTokens, outputTokenLimit, TOKENS_PER_MEDIA } from '../../core/index.ts'
import type { InboundApi } from '../../core/index.ts'
import { testContext } from '../../testing/index.ts'

/** The rule written out: the listed strings (keys and values) at 4 characters per token, rounded up. */
const tokensOf = (...strings: string[]) => Math.ceil(strings.join('').length / 4)

const input = (body: Record<string, unknown>, api?: InboundApi) => estimateInputTokens(testContext({ body, api }))
const output = (body: Record<string, unknown>, fallback: number, api?: InboundApi) => outputTokenLimit(testContext({ body, api }), fallback)

describe('input estimate', () => {
  it('counts every string of the body, object keys included, at 4 characters per token', () => {
    const body = { model: 'gpt', temperature: 0.2, messages: [{ role: 'user', content: 'abcd' }] }
    expect(input(body)).toBe(tokensOf('model', 'gpt', 'temperature', 'messages', 'role', 'user', 'content', 'abcd'))
    // Numbers and booleans are not text: only their keys count.
    expect(input({ model: 'gpt', messages: [], stream: true, n: 1 })).toBe(tokensOf('model', 'gpt', 'messages', 'stream', 'n'))
  })

  it('counts tool definitions: names, descriptions and the keys of their schemas', () => {
    const messages = [{ role: 'user', content: 'hi' }]
    const tools = [{
      type: 'function',
      function: { name: 'lookup', description: 'Find a thing by name', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
    }]
    const bare = tokensOf('model', 'm', 'messages', 'role', 'user', 'content', 'hi')
    const withTools = tokensOf(
      'model', 'm', 'messages', 'role', 'user', 'content', 'hi',
      'tools', 'type', 'function', 'function', 'name', 'lookup', 'description', 'Find a thing by name',
      'parameters', 'type', 'object', 'properties', 'query', 'type', 'string',
    )
    expect(input({ model: 'm', messages })).toBe(bare)
    expect(input({ model: 'm', messages, tools })).toBe(withTools)
    expect(withTools - bare).toBeGreaterThan(25)
  })

  it('counts tool calls and their arguments, and tool results', () => {
    const args = JSON.stringify({ query: 'q'.repeat(400) }) // 412 characters, one string
    const body = {
      model: 'm',
      messages: [
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: args } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'found it' },
      ],
    }
    expect(input(body)).toBe(tokensOf(
      'model', 'm', 'messages',
      'role', 'assistant', 'tool_calls', 'id', 'c1', 'type', 'function', 'function', 'name', 'lookup', 'arguments', args,
      'role', 'tool', 'tool_call_id', 'c1', 'content', 'found it',
    ))
    // Anthropic's tool_use input is an object: its keys and strings count the same way.
    const anthropic = { model: 'm', max_tokens: 10, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: { query: 'abcd' } }] }] }
    expect(input(anthropic, 'anthropic-messages')).toBe(tokensOf(
      'model', 'm', 'max_tokens', 'messages', 'role', 'assistant', 'content', 'type', 'tool_use', 'id', 't1', 'name', 'lookup', 'input', 'query', 'abcd',
    ))
  })

  it('counts each inline image as 1024 tokens, whatever its size, in either API', () => {
    expect(TOKENS_PER_MEDIA).toBe(1024)
    const chatWithImage = (base64: string) => ({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${base64}` } }] }],
    })
    const text = tokensOf('model', 'm', 'messages', 'role', 'user', 'content', 'type', 'text', 'text', 'look', 'type', 'image_url', 'image_url', 'url')
    expect(input(chatWithImage('iVBORw0KGgo='))).toBe(text + 1024)
    expect(input(chatWithImage('A'.repeat(4_000_000)))).toBe(text + 1024)

    const anthropicWithImages = (count: number) => ({
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: Array.from({ length: count }, () => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'Qk0'.repeat(2000) } })) }],
    })
    const frame = ['model', 'm', 'max_tokens', 'messages', 'role', 'user', 'content']
    const image = ['type', 'image', 'source', 'type', 'base64', 'media_type', 'image/png', 'data']
    expect(input(anthropicWithImages(1), 'anthropic-messages')).toBe(tokensOf(...frame, ...image) + 1024)
    expect(input(anthropicWithImages(3), 'anthropic-messages')).toBe(tokensOf(...frame, ...image, ...image, ...image) + 3 * 1024)
  })

  it('counts long text with spaces as text, not as a payload', () => {
    const prose = 'word '.repeat(2000) // 10,000 characters
    expect(input({ model: 'm', messages: [{ role: 'user', content: prose }] })).toBe(tokensOf('model', 'm', 'messages', 'role', 'user', 'content', prose))
  })

  it('counts only the input of an embeddings request', () => {
    expect(input({ model: 'text-embedding-3-small', input: ['abcd', 'efgh'], dimensions: 256 }, 'openai-embeddings')).toBe(tokensOf('abcd', 'efgh'))
  })

  it('is computed once per request: every plugin that asks gets the same number', () => {
    const ctx = testContext({ body: { model: 'm', messages: [{ role: 'user', content: 'abcd' }] } })
    const first = estimateInputTokens(ctx)
    ctx.body.messages = [{ role: 'user', content: 'a much longer prompt than before' }]
    expect(estimateInputTokens(ctx)).toBe(first)
  })
})

describe('output limit', () => {
  it('takes OpenAI max_completion_tokens over max_tokens, else max_tokens, else the fallback', () => {
    expect(output({ model: 'm', messages: [], max_completion_tokens: 9, max_tokens: 7 }, 100)).toBe(9)
    expect(output({ model: 'm', messages: [], max_tokens: 7 }, 100)).toBe(7)
    expect(output({ model: 'm', messages: [] }, 100)).toBe(100)
    // A cap that is not a count is no cap.
    expect(output({ model: 'm', messages: [], max_tokens: -3 }, 100)).toBe(100)
    expect(output({ model: 'm', messages: [], max_tokens: '50' }, 100)).toBe(100)
  })

  it('multiplies by n, the number of answers asked for', () => {
    expect(output({ model: 'm', messages: [], max_tokens: 7, n: 3 }, 100)).toBe(21)
    expect(output({ model: 'm', messages: [], n: 3 }, 100)).toBe(300)
    expect(output({ model: 'm', messages: [], max_tokens: 7, n: 0 }, 100)).toBe(7)
  })

  it('reads Anthropic max_tokens (and no OpenAI field) on /v1/messages', () => {
    expect(output({ model: 'm', messages: [], max_tokens: 50 }, 100, 'anthropic-messages')).toBe(50)
    expect(output({ model: 'm', messages: [], max_tokens: 50, max_completion_tokens: 9, n: 3 }, 100, 'anthropic-messages')).toBe(50)
  })

  it('is 0 for embeddings', () => {
    expect(output({ model: 'e', input: 'abcd', max_tokens: 50 }, 100, 'openai-embeddings')).toBe(0)
  })
})
