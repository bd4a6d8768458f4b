/**
 * With an auth plugin, nothing is done for a caller before it is known: `auth` runs on the headers alone, so a
 * keyless request is refused before its body is read (however large, however slow), and the model list needs a
 * key too and shows only what that key may use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request as httpRequest } from 'node:http'
import type { RunningServer } from '../../core/index.ts'
import { keys } from '../../plugins/index.ts'
import { echo } from '../../plugins/providers/index.ts'
import { serve } from './serve.ts'

const KEY = 'sk-auth-first-0123456789abcdef'
const NARROW_KEY = 'sk-auth-first-narrow-0123456789'

let gateway: RunningServer

beforeAll(async () => {
  gateway = await serve({
    plugins: [
      echo(), echo({ name: 'other' }),
      keys({ keys: [{ name: 'wide', key: KEY }, { name: 'narrow', key: NARROW_KEY, models: ['echo/*'] }] }),
    ],
  })
})
afterAll(() => gateway?.close())

/** Sends headers and the start of a chunked body that never ends; resolves with the status the gateway answers. */
function neverEndingBody(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${gateway.url}/v1/chat/completions`)
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers } }, (res) => {
      res.resume()
      resolve(res.statusCode!)
      req.destroy()
    })
    req.on('error', (error) => { if (!req.destroyed) reject(error) })
    req.write('{"model":"echo/e","messages":[{"role":"user","content":"' + 'x'.repeat(64 * 1024))
  })
}

describe('auth before the body', () => {
  it('a request without a key is refused with 401 while its body is still arriving', async () => {
    expect(await neverEndingBody({})).toBe(401)
    expect(await neverEndingBody({ authorization: 'Bearer sk-wrong-key-0123456789abc' })).toBe(401)
  })

  it('a known key gets its body read and answered', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo/e', messages: [{ role: 'user', content: 'hello' }] }),
    })
    expect(response.status).toBe(200)
  })

  it('the model allow-list is enforced once the model is known: 403 naming it', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${NARROW_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'other/e', messages: [{ role: 'user', content: 'hello' }] }),
    })
    expect(response.status).toBe(403)
    expect((await response.json()).error).toMatchObject({ code: 'model_not_allowed', message: 'This key may not use model "other/e".' })
  })
})

describe('GET /v1/models', () => {
  it('needs a key when an auth plugin is on, and lists only the models that key may use', async () => {
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(401)
    const wide = await (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })).json()
    const narrow = await (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${NARROW_KEY}` } })).json()
    const ids = (list: any) => list.data.map((model: any) => model.id)
    expect(ids(wide)).toEqual(expect.arrayContaining(['echo/echo-1', 'other/echo-1']))
    expect(ids(narrow).length).toBeGreaterThan(0)
    expect(ids(narrow).every((id: string) => id.startsWith('echo/'))).toBe(true)
  })
})
