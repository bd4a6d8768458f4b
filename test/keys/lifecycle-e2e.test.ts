/**
 * A virtual key's whole life through the real HTTP server: the admin API over `fetch` with the admin key, and
 * the official `openai` and `@anthropic-ai/sdk` clients using the key, in front of the echo provider and the mock
 * OpenAI upstream (priced at one cent per token by the config), with the real usage plugin on SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import type { MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually, type TestGateway } from '../helpers/gateway.ts'
import { KEY_FORMAT, adminApi, chat, startKeysRig } from './e2e.ts'

let rig: Awaited<ReturnType<typeof startKeysRig>>
let mock: MockOpenAI
let gateway: TestGateway
let admin: ReturnType<typeof adminApi>

beforeAll(async () => {
  rig = await startKeysRig('lifecycle')
  ;({ mock, gateway, admin } = rig)
})
afterAll(() => rig?.close())

const openaiWith = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
const anthropicWith = (key: string) => new Anthropic({ apiKey: key, baseURL: gateway.url, maxRetries: 0 })
const ask = (client: OpenAI, model: string, content = 'hello there') =>
  client.chat.completions.create({ model, max_tokens: 16, messages: [{ role: 'user', content }] })
const errorOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: any) => error)

/** Cents per request of "hello there" through the mock: 2 prompt + 3 completion tokens at $0.01 each. */
const HELLO_COST = 0.05

describe('admin API guard', () => {
  it('refuses a missing or wrong admin key, and a virtual key, in the OpenAI error shape', async () => {
    const none = await admin('GET', '/keys', undefined, null)
    expect(none.status).toBe(401)
    expect(none.body.error).toMatchObject({ type: 'authentication_error' })
    expect((await admin('GET', '/keys', undefined, 'not-the-admin-key-at-all')).status).toBe(401)
    const created = await admin('POST', '/keys', { name: 'plain' })
    expect((await admin('GET', '/keys', undefined, created.body.key)).status).toBe(401)
  })

  it('answers malformed payloads with a 400 that names the field', async () => {
    const negative = await admin('POST', '/keys', { name: 'x', budget: { maxUSD: -1 } })
    expect(negative.status).toBe(400)
    expect(negative.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_payload' })
    expect(negative.body.error.message).toContain('budget.maxUSD')
    const unknown = await admin('POST', '/keys', { name: 'x', colour: 'red' })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toContain('"colour"')
    expect((await admin('POST', '/keys', '{not json')).status).toBe(400)
    expect((await admin('GET', '/keys/AAAAAAAAAAAA')).body.error).toMatchObject({ code: 'key_not_found' })
  })
})

describe('a key with a model allow-list and a monthly budget', () => {
  it('is created, used, limited to its models, updated, rotated and revoked', async () => {
    // create
    const created = await admin('POST', '/keys', {
      name: 'alice',
      models: ['openai/gpt-4o-mini', 'echo/*'],
      budget: { maxUSD: 5, period: 'month' },
      tags: { team: 'search' },
    })
    expect(created.status).toBe(201)
    const { id, key } = created.body
    expect(key).toMatch(KEY_FORMAT)
    expect(key).toContain(id)
    expect(created.body).toMatchObject({ name: 'alice', status: 'active', source: 'storage', budget: { maxUSD: 5, period: 'month' }, tags: { team: 'search' } })
    expect(created.body).not.toHaveProperty('hash')

    // list and get never show the secret or its hash
    const listed = await admin('GET', '/keys')
    expect(listed.status).toBe(200)
    expect(listed.body.object).toBe('list')
    expect(listed.body.data.find((k: any) => k.id === id)).toMatchObject({ name: 'alice', status: 'active' })
    const secret = key.slice(-43)
    expect(listed.text).not.toContain(secret)
    expect(listed.text).not.toContain('"hash"')
    const got = await admin('GET', `/keys/${id}`)
    expect(got.body).toMatchObject({ id, name: 'alice', models: ['openai/gpt-4o-mini', 'echo/*'] })
    expect(got.text).not.toContain(secret)

    // the key works with the openai client (Bearer), streamed and not
    const client = openaiWith(key)
    const answer = await ask(client, 'openai/gpt-4o-mini')
    expect(answer.choices[0]!.message.content).toBe('echo: hello there')
    expect(mock.requests.at(-1)!.headers.authorization).toBe('Bearer sk-test-upstream-keys-000000') // the client's key never goes upstream
    const stream = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'hello there' }] })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe('echo: hello there')

    // a model outside the allow-list: 403 naming the model, in the OpenAI shape
    const denied = await errorOf(ask(client, 'openai/gpt-4o'))
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(denied.status).toBe(403)
    expect(denied.error).toMatchObject({ type: 'permission_error', code: 'model_not_allowed', param: 'model' })
    expect(denied.error.message).toContain('"openai/gpt-4o"')

    // allowed but unpriced while the key has a budget: refused, since its spend could not be counted
    const unpriced = await errorOf(ask(client, 'echo/echo-1'))
    expect(unpriced.status).toBe(403)
    expect(unpriced.error).toMatchObject({ type: 'permission_error', code: 'model_not_priced' })

    // spend: the two served requests, counted at their real cost, nothing still reserved
    await eventually(async () => {
      const spend = await admin('GET', `/keys/${id}/spend`)
      expect(spend.status).toBe(200)
      expect(spend.body.spentUSD.month).toBeCloseTo(2 * HELLO_COST, 9)
    })
    const spend = (await admin('GET', `/keys/${id}/spend`)).body
    expect(spend).toMatchObject({ id, reservedUSD: 0, budget: { maxUSD: 5, period: 'month' } })
    expect(spend.spentUSD.total).toBeCloseTo(2 * HELLO_COST, 9)
    expect(spend.budget.remainingUSD).toBeCloseTo(5 - 2 * HELLO_COST, 9)
    expect(Date.parse(spend.budget.periodStart)).toBe(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1))

    // update: widen the models, drop the budget; it applies at once
    const updated = await admin('PATCH', `/keys/${id}`, { models: ['openai/*', 'echo/*'], budget: null, name: 'alice-2' })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ name: 'alice-2', models: ['openai/*', 'echo/*'] })
    expect(updated.body).not.toHaveProperty('budget')
    expect((await ask(client, 'openai/gpt-4o')).choices[0]!.message.content).toBe('echo: hello there')
    expect((await ask(client, 'echo/echo-1', 'still me')).choices[0]!.message.content).toBe('still me')
    expect((await admin('PATCH', `/keys/${id}`, { budget: { maxUSD: 0 } })).status).toBe(400)

    // rotate: same id, new secret; the old one is refused at once
    const rotated = await admin('POST', `/keys/${id}/rotate`)
    expect(rotated.status).toBe(200)
    expect(rotated.body.id).toBe(id)
    expect(rotated.body.key).toMatch(KEY_FORMAT)
    expect(rotated.body.key).not.toBe(key)
    const old = await errorOf(ask(client, 'echo/echo-1'))
    expect(old).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(old.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' })
    const fresh = openaiWith(rotated.body.key)
    expect((await ask(fresh, 'echo/echo-1', 'rotated')).choices[0]!.message.content).toBe('rotated')

    // revoke: refused at once, with the same message as an unknown key; the record stays for audit and spend
    const revoked = await admin('DELETE', `/keys/${id}`)
    expect(revoked.status).toBe(200)
    expect(revoked.body).toMatchObject({ id, status: 'revoked' })
    expect(revoked.body.revokedAt).toEqual(expect.any(String))
    const refused = await errorOf(ask(fresh, 'echo/echo-1'))
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(refused.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' })
    const unknown = await errorOf(ask(openaiWith(`sk-sluice-${'A'.repeat(12)}-${'b'.repeat(43)}`), 'echo/echo-1'))
    expect(unknown.error.message).toBe(refused.error.message)
    expect(refused.error.message).not.toContain(rotated.body.key)
    expect((await admin('GET', `/keys/${id}`)).body.status).toBe('revoked')
    expect((await admin('GET', `/keys/${id}/spend`)).body.spentUSD.month).toBeGreaterThan(0)
    expect((await admin('POST', `/keys/${id}/rotate`)).body.error).toMatchObject({ code: 'key_revoked' })
    expect((await admin('PATCH', `/keys/${id}`, { name: 'back' })).status).toBe(409)
    expect((await admin('DELETE', `/keys/${id}`)).status).toBe(200) // revoking twice is not an error
  })

  it('answers a missing key with 401 missing_api_key', async () => {
    const response = await chat(gateway.url, undefined, { model: 'echo/echo-1', messages: [{ role: 'user', content: 'x' }] })
    expect(response.status).toBe(401)
    expect((await response.json()).error).toMatchObject({ type: 'authentication_error', code: 'missing_api_key' })
  })
})

describe('the Anthropic API with x-api-key', () => {
  it('serves the key, and refuses a model outside its list (403) and a revoked key (401) in the Anthropic shape', async () => {
    const { id, key } = (await admin('POST', '/keys', { name: 'claude-user', models: ['echo/*'] })).body
    const client = anthropicWith(key)
    const message = await client.messages.create({ model: 'echo/echo-1', max_tokens: 32, messages: [{ role: 'user', content: 'bonjour tout le monde' }] })
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'bonjour tout le monde' })

    const denied = await errorOf(client.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 32, messages: [{ role: 'user', content: 'x' }] }))
    expect(denied).toBeInstanceOf(Anthropic.PermissionDeniedError)
    expect(denied.status).toBe(403)
    expect(denied.error).toMatchObject({ type: 'error', error: { type: 'permission_error' } })
    expect(denied.error.error.message).toContain('"openai/gpt-4o-mini"')

    // raw x-api-key, as older clients send it
    const raw = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'echo/echo-1', max_tokens: 8, messages: [{ role: 'user', content: 'raw header' }] }),
    })
    expect(raw.status).toBe(200)
    expect((await raw.json()).content[0].text).toBe('raw header')

    await admin('DELETE', `/keys/${id}`)
    const refused = await errorOf(client.messages.create({ model: 'echo/echo-1', max_tokens: 32, messages: [{ role: 'user', content: 'x' }] }))
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(refused.status).toBe(401)
    expect(refused.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
  })
})
