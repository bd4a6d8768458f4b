/**
 * The keys plugin inside the real core (in-process, no socket): admin guard, error shapes per API, and a key
 * that works, is capped to its models, and stops when revoked; a budgeted key without the usage plugin. The runs
 * over HTTP with the official clients, the usage plugin, separate processes and the CLI are the *-e2e suites.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStorage } from 'unstorage'
import { createGateway, type Gateway } from '../../core/gateway.ts'
import { echo } from '../../plugins/providers/index.ts'
import { keys } from '../../plugins/keys/index.ts'

const ADMIN = 'admin-key-for-tests-0123456789'
let gateway: Gateway

beforeAll(async () => {
  gateway = await createGateway({ adminKey: ADMIN, logLevel: 'silent', plugins: [echo(), keys()] }, { storage: createStorage() })
})
afterAll(() => gateway?.close())

const call = (path: string, init: RequestInit = {}) => gateway.fetch(new Request(`http://gateway.test${path}`, init))
const admin = (method: string, path: string, body?: unknown) =>
  call(`/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
const chat = (key: string | undefined, model: string, path = '/v1/chat/completions') =>
  call(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key && { 'x-api-key': key }) },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hello there' }] }),
  })

describe('keys in the gateway', () => {
  it('guards the admin API with the admin key', async () => {
    const res = await call('/admin/keys', { method: 'POST', body: '{"name":"x"}' })
    expect(res.status).toBe(401)
    const virtual = await (await admin('POST', '/keys', { name: 'not-admin' })).json()
    const withVirtualKey = await call('/admin/keys', { headers: { authorization: `Bearer ${virtual.key}` } })
    expect(withVirtualKey.status).toBe(401)
  })

  it('serves a key, caps its models, and stops it when revoked, in each API shape', async () => {
    const created = await (await admin('POST', '/keys', { name: 'e2e', models: ['echo/*'] })).json()
    expect((await chat(undefined, 'echo/x')).status).toBe(401)
    const ok = await chat(created.key, 'echo/x')
    expect(ok.status).toBe(200)
    expect((await ok.json()).choices[0].message.content).toBe('hello there')

    const denied = await chat(created.key, 'openai/gpt-4o')
    expect(denied.status).toBe(403)
    expect((await denied.json()).error).toMatchObject({ type: 'permission_error', code: 'model_not_allowed' })

    expect((await admin('DELETE', `/keys/${created.id}`)).status).toBe(200)
    const openai = await chat(created.key, 'echo/x')
    expect(openai.status).toBe(401)
    expect((await openai.json()).error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' })
    const anthropic = await chat(created.key, 'echo/x', '/v1/messages')
    expect(anthropic.status).toBe(401)
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
  })

  it('refuses a budgeted key with 503 budget_unavailable when no usage plugin measures spend', async () => {
    const budgeted = await (await admin('POST', '/keys', { name: 'capped', budget: { maxUSD: 1 } })).json()
    const refused = await chat(budgeted.key, 'echo/x')
    expect(refused.status).toBe(503)
    expect((await refused.json()).error).toMatchObject({ type: 'api_error', code: 'budget_unavailable' })
    const spend = await admin('GET', `/keys/${budgeted.id}/spend`)
    expect(spend.status).toBe(503)
    expect((await spend.json()).error).toMatchObject({ code: 'spend_unavailable' })
    const unbudgeted = await (await admin('POST', '/keys', { name: 'uncapped' })).json()
    expect((await chat(unbudgeted.key, 'echo/x')).status).toBe(200)
  })
})
