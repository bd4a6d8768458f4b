import { describe, expect, it } from 'vitest'
import { errorBody, streamErrorFrames, streamUsageReader, upstreamErrorInfo, usageFromBody } from '../../core/formats/index.ts'
import { anthropicResponse, anthropicToolStream, geminiResponse, geminiToolStream, openaiResponse, openaiToolStream } from './fixtures.ts'
import { freshUsage } from './helpers.ts'

describe('errorBody', () => {
  const info = { status: 429, message: 'slow down', type: 'rate_limit_error', code: 'rate_limited' }
  it('puts an error in each caller shape', () => {
    expect(errorBody('openai-chat', info)).toEqual({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limited' } })
    expect(errorBody('anthropic-messages', info)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } })
    expect(errorBody('gemini', info)).toEqual({ error: { code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' } })
  })

  it('names Anthropic error types by status when the type is not one of Anthropic’s', () => {
    const type = (status: number, t = 'upstream_error') => (errorBody('anthropic-messages', { status, message: 'm', type: t }) as any).error.type
    expect([400, 401, 402, 403, 404, 413, 429, 500, 502, 503, 504, 529].map((s) => type(s))).toEqual([
      'invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error', 'request_too_large',
      'rate_limit_error', 'api_error', 'api_error', 'overloaded_error', 'timeout_error', 'overloaded_error',
    ])
    expect(type(500, 'overloaded_error')).toBe('overloaded_error')
  })

  it('stream error frames per caller format', () => {
    const i = { status: 502, message: 'cut', type: 'api_error' }
    expect(streamErrorFrames('openai-chat', i).map((f) => f.data)).toEqual([JSON.stringify({ error: { message: 'cut', type: 'api_error', param: null, code: null } }), '[DONE]'])
    expect(streamErrorFrames('anthropic-messages', i)).toEqual([{ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'cut' } }) }])
  })
})

describe('upstreamErrorInfo', () => {
  it('reads each provider’s error body', () => {
    expect(upstreamErrorInfo('anthropic-messages', 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: 'req_1' }))
      .toEqual({ status: 529, message: 'Overloaded', type: 'overloaded_error', code: null, param: null })
    expect(upstreamErrorInfo('openai-chat', 400, { error: { message: 'bad', type: 'invalid_request_error', param: 'messages', code: null } }))
      .toMatchObject({ status: 400, message: 'bad', type: 'invalid_request_error', param: 'messages' })
    expect(upstreamErrorInfo('gemini', 429, { error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }))
      .toMatchObject({ status: 429, message: 'Resource has been exhausted', type: 'rate_limit_error' })
    expect(upstreamErrorInfo('gemini', 404, [{ error: { code: 404, message: 'models/x is not found', status: 'NOT_FOUND' } }]))
      .toMatchObject({ type: 'not_found_error', message: 'models/x is not found' })
  })

  it('recognises a bad Gemini key and falls back on the status for unreadable bodies', () => {
    const badKey = { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] } }
    expect(upstreamErrorInfo('gemini', 400, badKey).type).toBe('authentication_error')
    expect(upstreamErrorInfo('anthropic-messages', 503, '<html>bad gateway</html>')).toMatchObject({ status: 503, message: 'upstream returned 503', type: 'api_error' })
  })

  it('an upstream error reaches a client of another format with its type kept', () => {
    const info = upstreamErrorInfo('gemini', 503, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })
    expect(errorBody('anthropic-messages', info)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'The model is overloaded.' } })
    const anthropic = upstreamErrorInfo('anthropic-messages', 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } })
    expect(errorBody('openai-chat', anthropic)).toEqual({ error: { message: 'invalid x-api-key', type: 'authentication_error', param: null, code: null } })
  })
})

describe('usage', () => {
  it('reads non-stream bodies into the shared counters (input includes cached, output includes reasoning)', () => {
    const a = freshUsage()
    expect(usageFromBody('anthropic-messages', anthropicResponse(), a)).toBe(true)
    expect(a).toEqual({ inputTokens: 2070, outputTokens: 80, cachedTokens: 2000, cacheWriteTokens: 20, reasoningTokens: 0, estimated: false })
    const g = freshUsage()
    expect(usageFromBody('gemini', geminiResponse(), g)).toBe(true)
    expect(g).toEqual({ inputTokens: 120, outputTokens: 70, cachedTokens: 100, cacheWriteTokens: 0, reasoningTokens: 40, estimated: false })
    const o = freshUsage()
    expect(usageFromBody('openai-chat', openaiResponse(), o)).toBe(true)
    expect(o).toEqual({ inputTokens: 1117, outputTokens: 46, cachedTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 10, estimated: false })
    const e = freshUsage()
    expect(usageFromBody('gemini-embeddings', { embeddings: [] }, e)).toBe(false)
    expect(e.estimated).toBe(true)
  })

  it('reads streams as they pass: Anthropic message_start + cumulative message_delta', () => {
    const usage = freshUsage()
    const read = streamUsageReader('anthropic-messages')
    const events = anthropicToolStream()
    read(events[0]!, usage)
    expect(usage).toMatchObject({ inputTokens: 130, cachedTokens: 100, outputTokens: 1, estimated: false })
    for (const e of events.slice(1)) read(e, usage)
    expect(usage).toMatchObject({ inputTokens: 130, cachedTokens: 100, outputTokens: 89 })
  })

  it('reads streams as they pass: Gemini usageMetadata running totals, OpenAI usage chunk', () => {
    const g = freshUsage()
    for (const e of geminiToolStream()) streamUsageReader('gemini')(e, g)
    expect(g).toEqual({ inputTokens: 70, outputTokens: 40, cachedTokens: 50, cacheWriteTokens: 0, reasoningTokens: 20, estimated: false })
    const o = freshUsage()
    for (const e of openaiToolStream()) streamUsageReader('openai-chat')(e, o)
    expect(o).toEqual({ inputTokens: 80, outputTokens: 40, cachedTokens: 64, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false })
  })
})
