import { describe, expect, it, vi } from 'vitest'
import type { StreamDelta } from '../../core/index.ts'
import { codecFor, sseEvent } from '../../core/index.ts'
import {
  countTextTokens, estimatePromptTokens, flushEstimate, mergeOutputEstimate, needsPromptEstimate, outputEstimator, PROMPT_SAMPLE_CHARS, rawEventEstimator, type StreamEstimate,
} from '../../plugins/usage/tokens.ts'
import { makeRecord, usage } from './helpers.ts'

// Counts the characters handed to the tokenizer, so a test can tell how much text an estimate tokenized.
const tokenized = vi.hoisted(() => ({ chars: 0 }))
vi.mock('gpt-tokenizer', async (importOriginal) => {
  const real = await importOriginal<typeof import('gpt-tokenizer')>()
  return {
    ...real,
    countTokens: ((text: string, options?: any) => {
      tokenized.chars += text.length
      return real.countTokens(text, options)
    }) as typeof real.countTokens,
  }
})

const fresh = (): StreamEstimate => ({ outputTokens: 0, finalUsageSeen: false })
const text = (t: string): StreamDelta => ({ type: 'text', text: t })

describe('incremental output estimator (a stream observer on the neutral view)', () => {
  it('counts text, thinking and tool-call deltas, held back and counted at the end', () => {
    const state = fresh()
    const observe = outputEstimator(state)
    const deltas: StreamDelta[] = [
      { type: 'start', id: 'c1', model: 'gpt-4o' },
      text('Hello'), text(' there,'), text(' how are'), text(' you doing today?'),
      { type: 'thinking', text: 'thinking hard' },
      { type: 'tool_call_start', index: 0, id: 'call_1', name: 'lookup' },
      { type: 'tool_call_delta', index: 0, arguments: '{"q":"sluice"}' },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'done' },
    ]
    for (const delta of deltas) observe(delta)
    expect(state.outputTokens).toBe(0) // nothing tokenized yet for a short stream
    flushEstimate(state)
    expect(state.outputTokens).toBe(countTextTokens('Hello there, how are you doing today?thinking hardlookup{"q":"sluice"}'))
    expect(state.finalUsageSeen).toBe(false)
  })

  it('counts a long stream a batch at a time, so what it holds stays bounded', () => {
    const state = fresh()
    const observe = outputEstimator(state)
    const piece = 'word '.repeat(40)
    for (let i = 0; i < 200; i++) observe(text(piece))
    expect(state.outputTokens).toBeGreaterThan(0) // batches were counted while streaming
    expect(state.pendingText!.length).toBeLessThan(8_192)
    flushEstimate(state)
    // the truth is the whole text tokenized at once; each batch boundary may split one token in two
    const whole = countTextTokens(piece.repeat(200))
    expect(Math.abs(state.outputTokens - whole)).toBeLessThanOrEqual(Math.ceil((piece.length * 200) / 8_192) + 1)
  })

  it("stops counting at the provider's usage delta, and drops what it held back", () => {
    const state = fresh()
    const observe = outputEstimator(state)
    observe(text('one two three'))
    observe({ type: 'usage', usage: { inputTokens: 5, outputTokens: 3 } })
    expect(state.finalUsageSeen).toBe(true)
    observe(text('more text after usage'))
    flushEstimate(state)
    expect(state.outputTokens).toBe(0)
  })

  it("keeps counting past a start delta that reports usage (Anthropic's message_start): only a usage delta is final", () => {
    const state = fresh()
    const observe = outputEstimator(state)
    observe({ type: 'start', id: 'msg_1', usage: { inputTokens: 12, outputTokens: 1 } })
    expect(state.finalUsageSeen).toBe(false)
    observe(text('Bonjour tout le monde'))
    observe({ type: 'thinking', text: 'let me think' })
    observe({ type: 'tool_call_delta', index: 0, arguments: '{"city": "Par' })
    flushEstimate(state)
    expect(state.outputTokens).toBe(countTextTokens('Bonjour tout le mondelet me think{"city": "Par'))
    observe({ type: 'finish', reason: 'stop' })
    observe({ type: 'usage', usage: { outputTokens: 40 } })
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

  it('estimates a multi-megabyte prompt from a bounded sample: at most PROMPT_SAMPLE_CHARS tokenized, the rest extrapolated', async () => {
    const sentence = 'The quick brown fox jumps over the lazy dog. '
    const repeats = 70_000 // ~3 MB
    const prompt = sentence.repeat(repeats)
    tokenized.chars = 0
    const count = await estimatePromptTokens({ messages: [{ role: 'user', content: prompt }] })
    expect(tokenized.chars).toBeLessThanOrEqual(PROMPT_SAMPLE_CHARS)
    expect(tokenized.chars).toBeGreaterThan(PROMPT_SAMPLE_CHARS / 2) // it did read a real sample
    // the text repeats, so its tokens grow with its length: the extrapolated count is within 1 % of the truth
    const truth = (countTextTokens(sentence.repeat(1_000)) * repeats) / 1_000 + countTextTokens('user') + 4
    expect(Math.abs(count - truth) / truth).toBeLessThan(0.01)
  })

  it('yields to the event loop while it counts a large prompt', async () => {
    // queued before the estimate starts: it runs before the estimate ends only if the estimate yields
    let otherWorkRan = false
    setImmediate(() => { otherWorkRan = true })
    const result = estimatePromptTokens({ messages: [{ role: 'user', content: 'The quick brown fox jumps over the lazy dog. '.repeat(20_000) }] })
    expect(result).toBeInstanceOf(Promise)
    await result
    expect(otherWorkRan).toBe(true)
  })
})

describe('the raw event estimator (what usage() runs per stream)', () => {
  const chunk = (content: string) => sseEvent(JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] }))

  it('keeps events without parsing them, and decodes them only when the count is needed', () => {
    const state: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
    const decode = vi.fn(() => codecFor('openai-chat').streamDecoder!({ model: 'm', id: 'r' }))
    const transform = rawEventEstimator(state, decode)
    const events = ['Hello', ' there', ' friend'].map(chunk)
    for (const event of events) expect(transform(event, undefined as any)).toBe(event) // passed on untouched
    expect(decode).not.toHaveBeenCalled()
    flushEstimate(state) // the provider's usage never came: now count
    expect(decode).toHaveBeenCalledTimes(1)
    expect(state.outputTokens).toBe(countTextTokens('Hello there friend'))
  })

  it('decodes a batch at a time on a long stream, so what it holds stays bounded', () => {
    const state: StreamEstimate = { outputTokens: 0, finalUsageSeen: false }
    const transform = rawEventEstimator(state, () => codecFor('openai-chat').streamDecoder!({ model: 'm', id: 'r' }))
    for (let i = 0; i < 400; i++) transform(chunk('word '.repeat(20)), undefined as any)
    expect(state.pendingEventChars!).toBeLessThan(8_192)
    expect(state.outputTokens + countTextTokens(state.pendingText ?? '')).toBeGreaterThan(0)
  })
})
