/**
 * A key's model allow-list is enforced by the core, from `principal.allowsModel` (set by the keys plugin's auth
 * hook, which runs on headers before the body is read): once the body is read, a model the key may not use is
 * refused with 403 `model_not_allowed` in the caller's API shape, before any route or limit hook runs and
 * without reaching the provider. Through a real in-process gateway: createTestGateway + keys + scriptedProvider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestGateway, scriptedProvider, type ScriptedProvider, type TestGateway } from '../../testing/index.ts'
import { definePlugin } from '../../core/index.ts'
import { keys } from '../../plugins/keys/index.ts'

const KEY = 'sk-test-allow-list-0123456789abcdef'
const auth = { authorization: `Bearer ${KEY}` }

/** Counts the route and limit hooks the pipeline calls (it would be the router and the governor). */
const gateSpy = definePlugin((seen: string[]) => ({
  name: 'gate-spy',
  hooks: {
    route: (ctx) => void seen.push(`route ${ctx.model}`),
    limit: (ctx) => void seen.push(`limit ${ctx.model}`),
  },
}))

let gw: TestGateway
let provider: ScriptedProvider
const seen: string[] = []

beforeAll(async () => {
  provider = scriptedProvider({ name: 'mock', models: ['allowed', 'other'], replies: [{ text: 'hello' }] })
  gw = await createTestGateway({
    plugins: [provider, keys({ keys: [{ name: 'narrow', key: KEY, models: ['mock/allowed'] }] }), gateSpy(seen)],
  })
})
afterAll(() => gw?.close())

const chat = (model: string) => gw.chat({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, auth)
const messages = (model: string) => gw.messages({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, auth)

describe('the model allow-list, enforced by the core from principal.allowsModel', () => {
  it('serves a model on the list, through route and limit', async () => {
    seen.length = 0
    const response = await chat('mock/allowed')
    expect(response.status).toBe(200)
    expect((await response.json()).choices[0].message.content).toBe('hello')
    expect(seen).toEqual(['route mock/allowed', 'limit mock/allowed'])
  })

  it('refuses another model with 403 model_not_allowed in the OpenAI shape, before any route or limit hook', async () => {
    seen.length = 0
    const calls = provider.calls.length
    const response = await chat('mock/other')
    expect(response.status).toBe(403)
    expect(response.headers.get('x-request-id')).toMatch(/^req_/)
    expect(await response.json()).toEqual({
      error: { message: 'This key may not use model "mock/other".', type: 'permission_error', param: 'model', code: 'model_not_allowed' },
    })
    expect(seen).toEqual([])
    expect(provider.calls.length).toBe(calls)
  })

  it('refuses it in the Anthropic shape on /v1/messages', async () => {
    seen.length = 0
    const response = await messages('mock/other')
    expect(response.status).toBe(403)
    expect(await response.json()).toEqual({ type: 'error', error: { type: 'permission_error', message: 'This key may not use model "mock/other".' } })
    expect(seen).toEqual([])
  })

  it('records the refusal under the key', async () => {
    const records = await gw.waitForRecords(3)
    const refused = records.filter((r) => r.status === 403)
    expect(refused).toHaveLength(2)
    for (const record of refused) {
      expect(record).toMatchObject({ principalId: 'cfg.narrow', requestedModel: 'mock/other', outcome: 'permission_error', attempts: 0 })
      expect(record.provider).toBeUndefined()
    }
  })
})
