import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../core/errors.ts'
import { translateResponse } from '../../core/formats/index.ts'
import { anthropicResponse, geminiResponse, openaiResponse } from './fixtures.ts'
import { INFO } from './helpers.ts'

describe('translateResponse', () => {
  it('anthropic -> openai: text, tool calls, finish reason and usage with cache reads', () => {
    const out = translateResponse(anthropicResponse(), 'anthropic-messages', 'openai-chat', INFO) as any
    expect(out).toEqual({
      id: 'chatcmpl-req123',
      object: 'chat.completion',
      created: INFO.created,
      model: 'client-model',
      choices: [{
        index: 0,
        message: {
          role: 'assistant', content: 'Let me check both.', refusal: null, annotations: [],
          tool_calls: [
            { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_01B', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      }],
      usage: {
        prompt_tokens: 2070, completion_tokens: 80, total_tokens: 2150,
        prompt_tokens_details: { cached_tokens: 2000 }, completion_tokens_details: { reasoning_tokens: 0 },
      },
    })
  })

  it('openai -> anthropic: content blocks in order, stop_reason, usage split back into Anthropic counters', () => {
    const out = translateResponse(openaiResponse(), 'openai-chat', 'anthropic-messages', INFO) as any
    expect(out).toEqual({
      id: 'msg_req123',
      type: 'message',
      role: 'assistant',
      model: 'client-model',
      content: [
        { type: 'text', text: 'Checking both cities.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Tokyo' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 93, output_tokens: 46, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024 },
    })
  })

  it('gemini -> openai: generated call ids carry the thought signature; thoughts and cached tokens counted', () => {
    const out = translateResponse(geminiResponse(), 'gemini', 'openai-chat', INFO) as any
    const message = out.choices[0].message
    expect(message.content).toBe('Checking both.')
    expect(message.tool_calls.map((c: any) => [c.function.name, c.function.arguments])).toEqual([['get_weather', '{"city":"Paris"}'], ['get_weather', '{"city":"Tokyo"}']])
    expect(message.tool_calls[0].id).toMatch(/^call_req123_0__ts_CiQB0e2Kb3-_sig$/)
    expect(message.tool_calls[1].id).toBe('call_req123_1')
    expect(out.choices[0].finish_reason).toBe('tool_calls')
    expect(out.usage).toEqual({
      prompt_tokens: 120, completion_tokens: 70, total_tokens: 190,
      prompt_tokens_details: { cached_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 40 },
    })
  })

  it('gemini -> anthropic: thoughts become a thinking block', () => {
    const out = translateResponse(geminiResponse(), 'gemini', 'anthropic-messages', INFO) as any
    expect(out.content.map((b: any) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use'])
    expect(out.content[0]).toEqual({ type: 'thinking', thinking: 'Planning the calls.', signature: '' })
    expect(out.stop_reason).toBe('tool_use')
    expect(out.usage).toEqual({ input_tokens: 20, output_tokens: 70, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 })
  })

  it('maps finish reasons: length, stop sequences, safety blocks', () => {
    const maxTokens = translateResponse({ ...anthropicResponse(), content: [{ type: 'text', text: 'cut' }], stop_reason: 'max_tokens' }, 'anthropic-messages', 'openai-chat', INFO) as any
    expect(maxTokens.choices[0].finish_reason).toBe('length')
    const stopSeq = translateResponse({ ...anthropicResponse(), stop_reason: 'stop_sequence', stop_sequence: 'END' }, 'anthropic-messages', 'openai-chat', INFO) as any
    expect(stopSeq.choices[0].finish_reason).toBe('stop')
    const length = translateResponse({ ...openaiResponse(), choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'length' }] }, 'openai-chat', 'anthropic-messages', INFO) as any
    expect(length.stop_reason).toBe('max_tokens')
    const blocked = translateResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } }, 'gemini', 'anthropic-messages', INFO) as any
    expect(blocked).toMatchObject({ content: [], stop_reason: 'refusal' })
    const safety = translateResponse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'SAFETY' }] }, 'gemini', 'openai-chat', INFO) as any
    expect(safety.choices[0].finish_reason).toBe('content_filter')
  })

  it('a text-only OpenAI reply gives one text block; an empty one gives none', () => {
    const text = translateResponse({ ...openaiResponse(), choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] }, 'openai-chat', 'anthropic-messages', INFO) as any
    expect(text.content).toEqual([{ type: 'text', text: 'Hi' }])
    expect(text.stop_reason).toBe('end_turn')
    const empty = translateResponse({ ...openaiResponse(), choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'stop' }] }, 'openai-chat', 'anthropic-messages', INFO) as any
    expect(empty.content).toEqual([])
  })

  it('gemini-embeddings -> openai-embeddings honours encoding_format', () => {
    const body = { embeddings: [{ values: [0.5, -1] }, { values: [0.25, 2] }] }
    const floats = translateResponse(body, 'gemini-embeddings', 'openai-embeddings', { ...INFO, request: { input: ['a', 'b'] } }) as any
    expect(floats).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.5, -1] }, { object: 'embedding', index: 1, embedding: [0.25, 2] }],
      model: 'client-model',
      usage: { prompt_tokens: 0, total_tokens: 0 },
    })
    const b64 = translateResponse(body, 'gemini-embeddings', 'openai-embeddings', { ...INFO, request: { encoding_format: 'base64' } }) as any
    const bytes = Buffer.from(b64.data[1].embedding, 'base64')
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))
    expect(decoded).toEqual([0.25, 2])
  })

  it('an unreadable upstream body is a 502, not a crash', () => {
    for (const [body, from] of [[{ nope: 1 }, 'anthropic-messages'], ['text', 'openai-chat'], [null, 'gemini']] as const) {
      try {
        translateResponse(body, from, from === 'openai-chat' ? 'anthropic-messages' : 'openai-chat', INFO)
        throw new Error('expected a throw')
      } catch (error) {
        expect(GatewayError.is(error)).toBe(true)
        expect((error as GatewayError).status).toBe(502)
      }
    }
  })
})

describe('model output the client format cannot hold as is', () => {
  it('invalid JSON tool arguments from an OpenAI model reach an Anthropic client under _raw', () => {
    const body = { id: 'c', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a": 1' } }] }, finish_reason: 'tool_calls' }] }
    const out = translateResponse(body, 'openai-chat', 'anthropic-messages', INFO) as any
    expect(out.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'f', input: { _raw: '{"a": 1' } }])
  })
})
