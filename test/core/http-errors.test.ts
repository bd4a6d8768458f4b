/** Bad input gets a clear error in the OpenAI shape with an honest status; nothing internal leaks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request as httpRequest } from 'node:http'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'
import { createGateway } from '../../core/gateway.ts'
import { createLogger } from '../../core/logger.ts'
import type { PluginContext } from '../../core/types.ts'

let mock: MockOpenAI
let gateway: TestGateway

beforeAll(async () => {
  mock = await startMockOpenAI()
  gateway = await startGatewayFromFile('openai-mock.config.ts', { MOCK_OPENAI_URL: mock.url })
})
afterAll(async () => {
  await gateway?.close()
  await mock?.close()
})

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })

function expectOpenAIError(json: any, type: string) {
  expect(Object.keys(json)).toEqual(['error'])
  expect(json.error).toMatchObject({ type })
  expect(typeof json.error.message).toBe('string')
  expect(json.error).toHaveProperty('code')
  expect(JSON.stringify(json)).not.toMatch(/at .*\.ts:\d+|node_modules|127\.0\.0\.1/)
}

describe('request errors', () => {
  it('400 on invalid JSON', async () => {
    const response = await post('{"model": ')
    expect(response.status).toBe(400)
    expect(response.headers.get('x-request-id')).toBeTruthy()
    expectOpenAIError(await response.json(), 'invalid_request_error')
  })

  it('400 on a body that is not an object', async () => {
    const response = await post('[1,2]')
    expect(response.status).toBe(400)
    expectOpenAIError(await response.json(), 'invalid_request_error')
  })

  it('400 when the model is missing', async () => {
    const response = await post(JSON.stringify({ messages: [] }))
    expect(response.status).toBe(400)
    const json = await response.json()
    expectOpenAIError(json, 'invalid_request_error')
    expect(json.error.param).toBe('model')
  })

  it('400 when messages is not an array', async () => {
    const response = await post(JSON.stringify({ model: 'echo/x', messages: 'hi' }))
    expect(response.status).toBe(400)
    expectOpenAIError(await response.json(), 'invalid_request_error')
  })

  it('404 for an unknown provider or unprefixed model', async () => {
    for (const model of ['nosuch/gpt-4o', 'gpt-4o']) {
      const response = await post(JSON.stringify({ model, messages: [] }))
      expect(response.status).toBe(404)
      const json = await response.json()
      expectOpenAIError(json, 'invalid_request_error')
      expect(json.error.code).toBe('model_not_found')
    }
  })

  it('413 from an honest content-length over the limit, before the body is read', async () => {
    const big = JSON.stringify({ model: 'echo/x', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] })
    const response = await post(big)
    expect(response.status).toBe(413)
    expectOpenAIError(await response.json(), 'invalid_request_error')
  })

  it('413 from a chunked body (no content-length) as soon as it crosses the limit', async () => {
    const url = new URL(`${gateway.url}/v1/chat/completions`)
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode!, body: text }))
      })
      req.on('error', reject)
      // 200 KB in 1 KB chunks; the gateway answers after ~64 KB and stops reading
      let sent = 0
      const pump = () => {
        while (sent < 200) {
          sent++
          if (!req.write('x'.repeat(1024))) return req.once('drain', pump)
        }
        req.end()
      }
      pump()
    })
    expect(status).toBe(413)
    expectOpenAIError(JSON.parse(body), 'invalid_request_error')
  })

  it('answers a path that does not exist in the shape of the API the path belongs to, saying the endpoint does not exist', async () => {
    const openai = await fetch(`${gateway.url}/v1/nope`, { method: 'POST' })
    expect(openai.status).toBe(404)
    const body = await openai.json()
    expectOpenAIError(body, 'invalid_request_error')
    expect(body.error.message).toBe('This gateway has no endpoint POST /v1/nope.')
    const anthropic = await fetch(`${gateway.url}/v1/messages/batches`, { method: 'POST' })
    expect(await anthropic.json()).toEqual({ type: 'error', error: { type: 'not_found_error', message: 'This gateway has no endpoint POST /v1/messages/batches.' } })
    const gemini = await fetch(`${gateway.url}/v1beta/models/gemini-2.5-flash:predictLongRunning`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(gemini.status).toBe(404)
    expect((await gemini.json()).error).toMatchObject({ code: 404, status: 'NOT_FOUND' })
  })

  it('answers HEAD / (Claude Code\'s probe)', async () => {
    expect((await fetch(`${gateway.url}/`, { method: 'HEAD' })).status).toBe(200)
  })
})

describe('service routes', () => {
  it('health and ready', async () => {
    const health = await fetch(`${gateway.url}/health`)
    expect(health.status).toBe(200)
    expect(health.headers.get('x-request-id')).toBeTruthy()
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${gateway.url}/ready`)
    expect(ready.status).toBe(200)
    expect((await ready.json()).status).toBe('ready')
  })

  it('lists the configured providers\' models', async () => {
    const json = await (await fetch(`${gateway.url}/v1/models`)).json()
    expect(json.object).toBe('list')
    const ids = json.data.map((m: any) => m.id)
    expect(ids).toContain('echo/echo-1')
    expect(ids).toContain('openai/gpt-4o')
  })

  it('admin routes a plugin mounts answer 404 when no admin key is configured, and 401/200 when one is', async () => {
    const adminRoute = { name: 'admin-route', setup: (gw: PluginContext) => gw.admin('GET', '/ping', () => ({ pong: true })) }
    const off = await createGateway({ storage: { driver: 'memory' }, plugins: [adminRoute] }, { logger: createLogger('silent') })
    const on = await createGateway({ storage: { driver: 'memory' }, adminKey: 'an-admin-key-of-16+chars', plugins: [adminRoute] }, { logger: createLogger('silent') })
    try {
      const closed = await off.fetch(new Request('http://gw/admin/ping', { headers: { authorization: 'Bearer an-admin-key-of-16+chars' } }))
      expect(closed.status).toBe(404)
      expect((await closed.json()).error.message).toMatch(/admin API is off/)
      expect((await on.fetch(new Request('http://gw/admin/ping'))).status).toBe(401)
      expect((await on.fetch(new Request('http://gw/admin/ping', { headers: { 'x-api-key': 'wrong-key-of-16-chars!' } }))).status).toBe(401)
      const ok = await on.fetch(new Request('http://gw/admin/ping', { headers: { authorization: 'Bearer an-admin-key-of-16+chars' } }))
      expect(await ok.json()).toEqual({ pong: true })
    } finally {
      await off.close()
      await on.close()
    }
  })
})
