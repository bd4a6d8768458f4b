import { describe, expect, it } from 'vitest'
import { sseEvent } from '../../core/sse.ts'
import {
  countTextTokens, estimatePromptTokens, flushEstimate, mergeOutputEstimate, needsPromptEstimate, outputEstimator, type StreamEstimate,
} from '../../plugins/usage/tokens.ts'
import { makeContext, makeRecord, usage } from './helpers.ts'

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  sseEvent(JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta }], ...extra }))

describe('incremental output estimator', () => {
  it('counts OpenAI chunk deltas (held back, counted at the end) and passes events through unchanged', () => {
    const state: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
    const transform = outputEstimator(state)
    const ctx = makeContext({ api: 'openai-chat' })
    const pieces = ['Hello', ' there,', ' how are', ' you doing today?']
    let expected = 0
    for (const piece of pieces) {
      const event = chunk({ content: piece })
      expect(transform(event, ctx)).toBe(event)
      expected += countTextTokens(piece)
    }
    transform(chunk({ tool_calls: [{ index: 0, function: { name: 'lookup', arguments: '{"q":"sluice"}' } }] }), ctx)
    expected += countTextTokens('lookup{"q":"sluice"}')
    transform(chunk({ reasoning_content: 'thinking hard' }), ctx)
    expected += countTextTokens('thinking hard')
    transform(sseEvent('[DONE]'), ctx)
    expect(state.outputTokens).toBe(0) // nothing tokenized yet for a short stream
    flushEstimate(state)
    expect(state.outputTokens).toBe(expected)
    expect(state.finalUsageSeen).toBe(false)
  })

  it('counts a long stream a batch at a time, so what it holds stays bounded', () => {
    const state: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
    const transform = outputEstimator(state)
    const ctx = makeContext({ api: 'openai-chat' })
    const piece = 'word '.repeat(40)
    for (let i = 0; i < 200; i++) transform(chunk({ content: piece }), ctx)
    expect(state.outputTokens).toBeGreaterThan(0) // batches were counted while streaming
    expect(state.pendingText!.length).toBeLessThan(8_192)
    flushEstimate(state)
    // the truth is the whole text tokenized at once; each batch boundary may split one token in two
    const whole = countTextTokens(piece.repeat(200))
    expect(Math.abs(state.outputTokens - whole)).toBeLessThanOrEqual(Math.ceil((piece.length * 200) / 8_192) + 1)
  })

  it('stops counting once the provider usage chunk has passed', () => {
    const state: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
    const transform = outputEstimator(state)
    const ctx = makeContext({ api: 'openai-chat' })
    transform(chunk({ content: 'one two three' }), ctx)
    const counted = state.outputTokens
    transform(sseEvent(JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } })), ctx)
    expect(state.finalUsageSeen).toBe(true)
    transform(chunk({ content: 'more text after usage' }), ctx)
    expect(state.outputTokens).toBe(counted)
  })

  it('ignores chunks that carry "usage": null', () => {
    const state: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
    outputEstimator(state)(chunk({ content: 'hi' }, { usage: null }), makeContext())
    expect(state.finalUsageSeen).toBe(false)
    flushEstimate(state)
    expect(state.outputTokens).toBe(countTextTokens('hi'))
  })

  it('counts Anthropic text, thinking and tool-input deltas; message_delta usage is final', () => {
    const state: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
    const transform = outputEstimator(state)
    const ctx = makeContext({ api: 'anthropic-messages' })
    const delta = (d: Record<string, unknown>) => sseEvent(JSON.stringify({ type: 'content_block_delta', index: 0, delta: d }), 'content_block_delta')
    transform(sseEvent(JSON.stringify({ type: 'message_start', message: { usage: { input_tokens: 12, output_tokens: 1 } } }), 'message_start'), ctx)
    expect(state.finalUsageSeen).toBe(false)
    transform(delta({ type: 'text_delta', text: 'Bonjour tout le monde' }), ctx)
    transform(delta({ type: 'thinking_delta', thinking: 'let me think' }), ctx)
    transform(delta({ type: 'input_json_delta', partial_json: '{"city": "Par' }), ctx)
    flushEstimate(state)
    expect(state.outputTokens).toBe(countTextTokens('Bonjour tout le monde') + countTextTokens('let me think') + countTextTokens('{"city": "Par'))
    transform(sseEvent(JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 40 } }), 'message_delta'), ctx)
    expect(state.finalUsageSeen).toBe(true)
  })

  it('counts special-token text as text instead of throwing', () => {
    expect(countTextTokens('a <|endoftext|> b')).toBeGreaterThan(3)
  })
})

describe('merging the estimate into the record', () => {
  const estimate = (outputTokens: number, finalUsageSeen = false): StreamEstimate => ({ outputTokens, finalUsageSeen })

  it('keeps provider usage on a completed stream', () => {
    const u = usage({ inputTokens: 10, outputTokens: 30 })
    expect(mergeOutputEstimate(u, 'ok', estimate(33))).toBe(false)
    expect(u).toEqual(usage({ inputTokens: 10, outputTokens: 30 }))
  })

  it('uses the estimate when the provider sent no usage', () => {
    const u = usage()
    expect(mergeOutputEstimate(u, 'ok', estimate(33))).toBe(true)
    expect(u).toMatchObject({ outputTokens: 33, estimated: true })
  })

  it('takes the larger count for a stream cut short after a start-of-stream report', () => {
    const u = usage({ inputTokens: 12, outputTokens: 1 }) // Anthropic message_start, then the client left
    expect(mergeOutputEstimate(u, 'client_abort', estimate(57))).toBe(true)
    expect(u).toMatchObject({ inputTokens: 12, outputTokens: 57, estimated: true })
  })

  it('keeps the provider count on a failed stream when the final usage had already passed', () => {
    const u = usage({ inputTokens: 12, outputTokens: 50 })
    expect(mergeOutputEstimate(u, 'upstream_error', estimate(57, true))).toBe(false)
    expect(u.outputTokens).toBe(50)
  })
})

describe('prompt estimate', () => {
  it('needs one only when a provider was reached and no input count arrived', () => {
    expect(needsPromptEstimate(makeRecord({ usage: usage(), status: 499, outcome: 'client_abort' }))).toBe(true)
    expect(needsPromptEstimate(makeRecord({ usage: usage(), status: 200 }))).toBe(true)
    expect(needsPromptEstimate(makeRecord({ usage: usage({ inputTokens: 5 }) }))).toBe(false)
    expect(needsPromptEstimate(makeRecord({ usage: usage(), status: 429, attempts: 0, provider: undefined, ttfbMs: undefined }))).toBe(false)
    expect(needsPromptEstimate(makeRecord({ usage: usage(), status: 502, outcome: 'api_error', ttfbMs: undefined }))).toBe(false)
  })

  it('counts a small prompt at once', () => {
    const body = {
      system: 'You are terse.',
      messages: [
        { role: 'user', content: 'What is a sluice?' },
        { role: 'user', content: [{ type: 'text', text: 'Answer briefly.' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
      ],
    }
    const count = estimatePromptTokens(body)
    expect(typeof count).toBe('number')
    const texts = ['You are terse.', 'user', 'What is a sluice?', 'user', 'text', 'Answer briefly.', 'image_url']
    expect(count).toBe(texts.reduce((sum, t) => sum + countTextTokens(t), 0) + 2 * 4)
  })

  it('counts embeddings input given as token ids', () => {
    expect(estimatePromptTokens({ input: [[1, 2, 3], [4, 5]] })).toBe(5)
  })

  it('counts a large prompt in slices, yielding to the event loop while it works', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20_000) // ~900k characters
    const result = estimatePromptTokens({ messages: [{ role: 'user', content: text }] })
    expect(result).toBeInstanceOf(Promise)
    let ticks = 0
    const interval = setInterval(() => ticks++, 0)
    const count = await result
    clearInterval(interval)
    expect(ticks).toBeGreaterThan(0)
    const exact = countTextTokens(text) + countTextTokens('user') + 4
    expect(Math.abs(count - exact) / exact).toBeLessThan(0.01)
  })
})
