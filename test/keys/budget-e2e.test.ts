/**
 * Budgets through the HTTP server with the real usage plugin (SQLite in a temp dir): a provider named `openai`
 * in front of the mock upstream, model gpt-4o-mini priced by the config at $0.01 per token (input and output),
 * so every figure below is a whole number of cents.
 *
 * The mock bills one token per word: prompt = words of the message, completion = words of "echo: <message>".
 * The keys plugin reserves the core's input estimate (every string of the body, object keys included, at 4
 * characters per token, rounded up) + max_tokens tokens per request. Both are computed here from the request
 * itself, then the bounds the design promises are checked:
 *   - honest reservations (reservation >= real cost): the key never spends more than its budget;
 *   - requests whose real cost exceeds their reservation: overshoot is at most what the requests in flight
 *     cost beyond their reservations (at most floor(budget / reservation) of them are in flight at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually, type TestGateway } from '../helpers/gateway.ts'
import { adminApi, startKeysRig } from './e2e.ts'

const USD_PER_TOKEN = 0.01
const MODEL = 'openai/gpt-4o-mini'
const EPSILON = 1e-9

let rig: Awaited<ReturnType<typeof startKeysRig>>
let mock: MockOpenAI
let gateway: TestGateway
let admin: ReturnType<typeof adminApi>

beforeAll(async () => {
  rig = await startKeysRig('budget')
  ;({ mock, gateway, admin } = rig)
})
afterAll(() => rig?.close())

const words = (text: string) => text.split(/\s+/).filter(Boolean).length

/** A request body with what it reserves and what it really costs. */
function priced(content: string, maxTokens: number) {
  const body = JSON.stringify({ model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content }] })
  // The strings of that body: its keys model, max_tokens, messages, role, content and the values MODEL, user, content.
  const inputChars = 'model'.length + 'max_tokens'.length + 'messages'.length + 'role'.length + 'content'.length + MODEL.length + 'user'.length + content.length
  const reserveUSD = (Math.ceil(inputChars / 4) + maxTokens) * USD_PER_TOKEN
  const costUSD = (words(content) + words(`echo: ${content}`)) * USD_PER_TOKEN
  return { body, reserveUSD, costUSD }
}

async function createBudgetKey(name: string, maxUSD: number): Promise<{ id: string; key: string }> {
  const created = await admin('POST', '/keys', { name, models: [MODEL], budget: { maxUSD, period: 'month' } })
  expect(created.status).toBe(201)
  return created.body
}

const send = (key: string, body: string) =>
  fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body })

/** Fires `n` requests at once; returns the statuses and the error bodies of the refusals. */
async function burst(key: string, body: string, n: number) {
  const responses = await Promise.all(Array.from({ length: n }, () => send(key, body)))
  const results = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.json() })))
  return { ok: results.filter((r) => r.status === 200).length, refused: results.filter((r) => r.status !== 200) }
}

/** The key's spend once every admitted request has been recorded and nothing is reserved any more. */
async function settledSpend(id: string, expectedUSD: number): Promise<any> {
  let spend: any
  await eventually(async () => {
    spend = (await admin('GET', `/keys/${id}/spend`)).body
    expect(spend.reservedUSD).toBe(0)
    expect(spend.spentUSD.month).toBeCloseTo(expectedUSD, 9)
  })
  return spend
}

function expectQuotaRefusals(refused: Array<{ status: number; body: any }>) {
  for (const refusal of refused) {
    expect(refusal.status).toBe(403)
    expect(refusal.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' })
  }
}

describe('a monthly budget under 50 concurrent requests', () => {
  it('never spends past the budget when reservations cover the real cost, then refuses with 403 insufficient_quota', async () => {
    const maxUSD = 1
    const request = priced('hello there', 8)
    expect(request.reserveUSD).toBeGreaterThanOrEqual(request.costUSD) // the premise of this case
    expect(50 * request.costUSD).toBeGreaterThan(maxUSD) // the budget cannot serve them all
    const { id, key } = await createBudgetKey('burst', maxUSD)

    const { ok, refused } = await burst(key, request.body, 50)
    expect(ok).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(0)
    expectQuotaRefusals(refused)
    const spend = await settledSpend(id, ok * request.costUSD)
    expect(spend.spentUSD.month).toBeLessThanOrEqual(maxUSD + EPSILON)
    expect(mock.requests.length).toBe(ok) // refused requests never reached the upstream

    // Keep going one at a time with the openai client until the budget refuses.
    const client = new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
    const params = JSON.parse(request.body)
    let served = ok
    let refusal: any
    for (let i = 0; i < 100 && !refusal; i++) {
      await client.chat.completions.create(params).then(() => served++, (error) => (refusal = error))
    }
    expect(refusal).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(refusal.status).toBe(403)
    expect(refusal.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' })
    expect(refusal.error.message).toContain('budget')
    const after = await settledSpend(id, served * request.costUSD)
    expect(after.spentUSD.month).toBeLessThanOrEqual(maxUSD + EPSILON)
    expect(after.budget.remainingUSD).toBeLessThan(request.reserveUSD)
    // and it stays refused
    expect((await send(key, request.body)).status).toBe(403)
  })

  it('bounds the overshoot by what in-flight requests cost beyond their reservations', async () => {
    const maxUSD = 5
    // One-letter words: ~2 characters per word (half a token reserved), the mock bills 2 tokens per word.
    const request = priced(Array.from({ length: 100 }, () => 'a').join(' '), 1)
    expect(request.costUSD).toBeGreaterThan(request.reserveUSD) // the premise of this case
    const { id, key } = await createBudgetKey('under-reserved', maxUSD)
    const before = mock.requests.length

    const { ok, refused } = await burst(key, request.body, 50)
    expect(ok).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(0)
    expectQuotaRefusals(refused)
    expect(mock.requests.length - before).toBe(ok)
    const spend = await settledSpend(id, ok * request.costUSD)
    // Reservations in flight never exceed the budget, so at most this many requests were in flight together.
    const maxInFlight = Math.floor(maxUSD / request.reserveUSD + EPSILON)
    expect(spend.spentUSD.month).toBeLessThanOrEqual(maxUSD + maxInFlight * (request.costUSD - request.reserveUSD) + EPSILON)
    expect((await send(key, request.body)).status).toBe(403)
  })
})
