/**
 * Client input that used to take the process down or slip past the edge: model names that would break a header
 * or a log line, JSON nested deep enough to overflow the gateway's own serialiser, a plugin that sets a header
 * Node cannot write. Every answer is an honest status in the caller's shape, and the process stays up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin, type RunningServer } from '../../core/index.ts'
import { echo } from '../../plugins/providers/index.ts'
import { serve } from './serve.ts'

const BAD_MODELS = [
  'echo/x\r\nx-injected: 1',
  'echo/x\ny',
  'echo/nul\u0000byte',
  'echo/modèle',
  'echo/чат',
  'echo/../../admin',
  'echo//double',
  `echo/${'x'.repeat(300)}`,
]

let gateway: RunningServer

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })

// A plugin with bugs a user could write: headers Node cannot write, and a target whose model holds a line break.
const careless = definePlugin(() => ({
  name: 'careless',
  hooks: {
    auth(ctx) {
      if (ctx.request.headers.get('x-careless') === 'header') ctx.responseHeaders.set('x-note', 'line\nbreak')
    },
    route(ctx) {
      if (ctx.request.headers.get('x-careless') === 'target') ctx.plan = [{ provider: 'echo', model: 'echo\r\nx-evil: 1' }]
    },
  },
}))

beforeAll(async () => {
  gateway = await serve({ plugins: [echo(), careless()] })
})
afterAll(() => gateway?.close())

async function alive(): Promise<void> {
  expect((await fetch(`${gateway.url}/health`)).status).toBe(200)
}

describe('model names', () => {
  it.each(BAD_MODELS)('%j is refused with 400 invalid_model, streamed or not, in the OpenAI and Anthropic shapes', async (model) => {
    for (const stream of [true, false]) {
      const chat = await post('/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] })
      expect(chat.status).toBe(400)
      expect((await chat.json()).error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'invalid_model' })
      const messages = await post('/v1/messages', { model, stream, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      expect(messages.status).toBe(400)
      expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    }
    await alive()
  })

  it('ordinary model ids with slashes, dots, colons and @ still pass the edge', async () => {
    for (const model of ['echo/accounts/fireworks/models/llama-v3p1-8b', 'echo/anthropic.claude-3-5-sonnet-20241022-v2:0', 'echo/@cf/meta/llama-3.1-8b']) {
      const response = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] })
      expect(response.status).toBe(200)
    }
  })
})

describe('headers a plugin sets', () => {
  it('a header value Node cannot write fails that request with a 500, not the process', async () => {
    for (const stream of [true, false]) {
      const response = await post('/v1/chat/completions', { model: 'echo/e', stream, messages: [{ role: 'user', content: 'hi' }] }, { 'x-careless': 'header' })
      expect(response.status).toBe(500)
      expect((await response.json()).error.message).toBe('internal gateway error')
    }
    await alive()
  })

  it('a target whose model Node cannot write as a header is served without that header', async () => {
    for (const stream of [true, false]) {
      const response = await post('/v1/chat/completions', { model: 'echo/e', stream, messages: [{ role: 'user', content: 'hi there' }] }, { 'x-careless': 'target' })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-sluice-provider')).toBe('echo')
      expect(response.headers.get('x-sluice-model')).toBeNull()
      expect(response.headers.get('x-evil')).toBeNull()
      await response.text()
    }
    await alive()
  })
})

describe('JSON nesting', () => {
  it('a body nested 5,000 deep is refused at parse with 400 naming the limit', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`
    const body = `{"model":"echo/e","messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`
    for (const path of ['/v1/chat/completions', '/v1/messages']) {
      const response = await post(path, body)
      expect(response.status).toBe(400)
      expect(JSON.stringify(await response.json())).toMatch(/nests deeper than 128 levels/)
    }
    await alive()
  })

  it('brackets inside strings do not count', async () => {
    const content = '['.repeat(5000)
    const response = await post('/v1/chat/completions', { model: 'echo/e', messages: [{ role: 'user', content }] })
    expect(response.status).toBe(200)
  })
})
