/**
 * A keyless gateway on loopback (the README default) cannot be driven by the web pages a developer's browser
 * visits: a cross-site "simple" POST (text/plain, form, no content type) gets 415 and a DNS-rebound Host gets 421,
 * each in the caller's API error shape. With an auth plugin the checks are off unless `server.allowedHosts` is set.
 * CORS headers appear only for origins in `server.cors`. Requests go out through node:http, which can forge Host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../core/config.ts'
import { startServer, type RunningServer } from '../../core/server.ts'
import { createLogger } from '../../core/logger.ts'
import { echo } from '../../plugins/providers/index.ts'
import type { SluicePlugin } from '../../core/types.ts'
import { rawRequest, type RawResponse } from './raw-http.ts'

const chatBody = JSON.stringify({ model: 'echo/m', messages: [{ role: 'user', content: 'hi' }] })
const messagesBody = JSON.stringify({ model: 'echo/m', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
const embeddingsBody = JSON.stringify({ model: 'echo/m', input: 'hi' })

/** Any caller is "alice": an auth hook that never refuses. */
const anyoneIsAlice: SluicePlugin = { name: 'anyone-is-alice', hooks: { auth(ctx) { ctx.principal = { id: 'alice' } } } }

async function start(server: Record<string, unknown>, plugins: SluicePlugin[] = []): Promise<RunningServer> {
  return startServer(
    resolveConfig({ server: { port: 0, host: '127.0.0.1', ...server }, storage: { driver: 'memory' }, plugins: [echo(), ...plugins] }),
    { logger: createLogger('silent') },
  )
}

function post(server: RunningServer, path: string, body: string, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest(`${server.url}${path}`, { method: 'POST', headers, body })
}

const openaiError = (code: string) => ({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code } })
const anthropicError = { type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } }

describe('a keyless gateway', () => {
  let server: RunningServer
  beforeAll(async () => { server = await start({}) })
  afterAll(() => server?.close())

  const json = { 'content-type': 'application/json' }

  it.each([
    ['text/plain (a cross-site simple POST)', { 'content-type': 'text/plain;charset=UTF-8' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['no content type', {}],
  ])('refuses %s with 415 in the caller\'s API shape, before reading the body', async (_, headers) => {
    const chat = await post(server, '/v1/chat/completions', chatBody, headers)
    expect(chat.status).toBe(415)
    expect(JSON.parse(chat.body)).toEqual(openaiError('unsupported_media_type'))
    const embeddings = await post(server, '/v1/embeddings', embeddingsBody, headers)
    expect(embeddings.status).toBe(415)
    expect(JSON.parse(embeddings.body)).toEqual(openaiError('unsupported_media_type'))
    const messages = await post(server, '/v1/messages', messagesBody, headers)
    expect(messages.status).toBe(415)
    expect(JSON.parse(messages.body)).toEqual(anthropicError)
  })

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/vnd.example+json'])('accepts %s', async (type) => {
    expect((await post(server, '/v1/chat/completions', chatBody, { 'content-type': type })).status).toBe(200)
  })

  it('refuses a Host it does not listen on (DNS rebinding) with 421, on every route but the probes, without echoing it', async () => {
    const evil = { host: `rebind.attacker.example:${server.port}` }
    const chat = await post(server, '/v1/chat/completions', chatBody, { ...json, ...evil })
    expect(chat.status).toBe(421)
    expect(JSON.parse(chat.body)).toEqual(openaiError('misdirected_request'))
    expect(chat.body).not.toContain('attacker')
    const messages = await post(server, '/v1/messages', messagesBody, { ...json, ...evil })
    expect(messages.status).toBe(421)
    expect(JSON.parse(messages.body)).toEqual(anthropicError)
    expect((await rawRequest(`${server.url}/v1/models`, { headers: evil })).status).toBe(421)
    expect((await rawRequest(`${server.url}/health`, { headers: evil })).status).toBe(200)
    expect((await rawRequest(`${server.url}/ready`, { headers: evil })).status).toBe(200)
  })

  it.each(['localhost', '127.0.0.1', '[::1]', 'LOCALHOST'])('answers Host %s', async (name) => {
    const response = await post(server, '/v1/chat/completions', chatBody, { ...json, host: `${name}:${server.port}` })
    expect(response.status).toBe(200)
  })

  it('sends no CORS headers and answers no preflight when server.cors is unset', async () => {
    const origin = { origin: 'https://some-page.example' }
    const answer = await post(server, '/v1/chat/completions', chatBody, { ...json, ...origin })
    expect(answer.status).toBe(200)
    expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([])
    const preflight = await rawRequest(`${server.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } })
    expect(preflight.status).not.toBe(204)
    expect(Object.keys(preflight.headers).filter((name) => name.startsWith('access-control-'))).toEqual([])
  })
})

describe('server.allowedHosts', () => {
  it('adds names to the keyless check', async () => {
    const server = await start({ allowedHosts: ['gateway.internal'] })
    try {
      const headers = { 'content-type': 'application/json' }
      expect((await post(server, '/v1/chat/completions', chatBody, { ...headers, host: 'gateway.internal:443' })).status).toBe(200)
      expect((await post(server, '/v1/chat/completions', chatBody, { ...headers, host: `localhost:${server.port}` })).status).toBe(200)
      expect((await post(server, '/v1/chat/completions', chatBody, { ...headers, host: 'other.internal' })).status).toBe(421)
    } finally {
      await server.close()
    }
  })
})

describe('with an auth plugin', () => {
  it('checks neither content type nor Host (the key is what a web page cannot send)', async () => {
    const server = await start({}, [anyoneIsAlice])
    try {
      const answer = await post(server, '/v1/chat/completions', chatBody, { 'content-type': 'text/plain', host: 'anything.example' })
      expect(answer.status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('checks Host when server.allowedHosts is set', async () => {
    const server = await start({ allowedHosts: ['gateway.internal'] }, [anyoneIsAlice])
    try {
      expect((await post(server, '/v1/chat/completions', chatBody, { 'content-type': 'text/plain', host: 'anything.example' })).status).toBe(421)
      expect((await post(server, '/v1/chat/completions', chatBody, { 'content-type': 'text/plain', host: 'gateway.internal' })).status).toBe(200)
    } finally {
      await server.close()
    }
  })
})

describe('server.cors', () => {
  let server: RunningServer
  beforeAll(async () => { server = await start({ cors: ['http://app.example:3000'] }) })
  afterAll(() => server?.close())

  const preflight = (origin: string) => rawRequest(`${server.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
  })

  it('answers the preflight of an allowed origin only', async () => {
    const allowed = await preflight('http://app.example:3000')
    expect(allowed.status).toBe(204)
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': 'http://app.example:3000',
      'access-control-allow-methods': expect.stringContaining('POST'),
      'access-control-allow-headers': 'content-type, authorization',
    })
    const other = await preflight('https://evil.example')
    expect(other.status).not.toBe(204)
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('marks answers to an allowed origin, streams included, and errors too', async () => {
    const headers = { 'content-type': 'application/json', origin: 'http://app.example:3000' }
    const stream = await post(server, '/v1/chat/completions', JSON.stringify({ model: 'echo/m', stream: true, messages: [{ role: 'user', content: 'a b c' }] }), headers)
    expect(stream.status).toBe(200)
    expect(stream.headers['access-control-allow-origin']).toBe('http://app.example:3000')
    expect(stream.headers['access-control-expose-headers']).toContain('x-request-id')
    expect(stream.body).toContain('data: [DONE]')
    const notFound = await post(server, '/v1/chat/completions', JSON.stringify({ model: 'nobody/m', messages: [] }), headers)
    expect(notFound.status).toBe(404)
    expect(notFound.headers['access-control-allow-origin']).toBe('http://app.example:3000')
    const other = await post(server, '/v1/chat/completions', chatBody, { ...headers, origin: 'https://evil.example' })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('config validation', () => {
  it.each([
    [{ allowedHosts: ['http://gateway.internal/'] }, /key "server\.allowedHosts\.0": expected a host name without a port/],
    [{ cors: ['https://app.example/path'] }, /key "server\.cors\.0": expected an origin/],
    [{ cors: 'https://app.example' }, /key "server\.cors"/],
  ])('refuses %j with one line naming the key', (server, message) => {
    expect(() => resolveConfig({ server })).toThrow(message)
  })
})
