/**
 * Budgets on the plugin harness: `admit` runs auth and limit as the pipeline does (the plan set by hand, as a
 * router would), `finish` ends the request as the pipeline does — the usage plugin's cost is recorded, then the
 * budget's settle function (returned by its limit hook) releases the reservation with the real cost.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Context } from '../../core/context.ts'
import { periodStart } from '../../plugins/keys/budget.ts'
import { worstCaseCostUSD } from '../../plugins/keys/estimate.ts'
import { governor } from '../../plugins/governor/index.ts'
import type { SluicePlugin } from '../../core/types.ts'
import { createTestGateway, scriptedProvider, testContext, type ScriptedReply } from '../../testing/index.ts'
import { definePlugin } from '../../core/index.ts'
import { keys } from '../../plugins/keys/index.ts'
import { memoryUsageServices, startKeys, type KeyRequest, type KeysRig } from './helpers.ts'

const PRICES = { 'openai/gpt-4o-mini': { input: 1e-6, output: 4e-6 }, 'openai/gpt-4o': { input: 5e-6, output: 20e-6 } }
const BODY = { model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'x'.repeat(200) }] }

let harness: KeysRig | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

async function budgetedKey(budget: { maxUSD: number; period?: string }, withServices = true, others: SluicePlugin[] = []) {
  const h = (harness = await startKeys({}, { others }))
  const usage = memoryUsageServices(PRICES)
  if (withServices) {
    h.services.set('pricing', usage.pricing)
    h.services.set('spend', usage.spend)
  }
  const { body } = await h.admin('POST', '/admin/keys', { name: 'budgeted', budget })
  return { h, usage, id: body.id as string, key: body.key as string }
}

/** The gate phases as the core runs them: auth, route (plan set by hand), limit. */
async function admit(h: KeysRig, key: string, init: KeyRequest = {}): Promise<{ ctx: Context; refused?: any }> {
  const model = init.model ?? BODY.model
  const ctx = h.request({ key, model, body: { ...BODY, model }, ...init })
  const refused = (await h.auth(ctx)) ?? (await h.limit(ctx))
  return { ctx, refused }
}

/** The end of a request as the core runs it: the usage plugin counts the cost, then the settle functions run. */
async function finish(h: KeysRig, usage: ReturnType<typeof memoryUsageServices>, ctx: Context, costUSD: number, status = 200) {
  if (ctx.principal && costUSD > 0) usage.recordCost(ctx.principal.id, h.clock.now(), costUSD)
  return h.finish(ctx, { status, outcome: status === 200 ? 'ok' : 'error', costUSD })
}

const reservedUSD = async (h: KeysRig, id: string): Promise<number> => (await h.admin('GET', `/admin/keys/${id}/spend`)).body.reservedUSD

describe('budget periods', () => {
  it('start at UTC midnight, Monday, the 1st, or never', () => {
    const wednesday = Date.UTC(2025, 0, 15, 12, 30)
    expect(periodStart('day', wednesday)).toBe(Date.UTC(2025, 0, 15))
    expect(periodStart('week', wednesday)).toBe(Date.UTC(2025, 0, 13))
    expect(periodStart('week', Date.UTC(2025, 0, 19, 23))).toBe(Date.UTC(2025, 0, 13)) // Sunday
    expect(periodStart('week', Date.UTC(2025, 0, 13))).toBe(Date.UTC(2025, 0, 13)) // Monday itself
    expect(periodStart('month', wednesday)).toBe(Date.UTC(2025, 0, 1))
    expect(periodStart('total', wednesday)).toBe(0)
  })
})

describe('budget enforcement', () => {
  it('admits 50 concurrent requests only up to the budget, then settles to the real cost', async () => {
    const probe = testContext({ body: BODY, plan: [{ provider: 'openai', model: 'gpt-4o-mini' }] })
    const worst = worstCaseCostUSD(probe, memoryUsageServices(PRICES).pricing, 4096)
    expect(worst).toBeGreaterThan(0)
    const { h, usage, id, key } = await budgetedKey({ maxUSD: worst * 10.5, period: 'month' })

    // Wave 1: all 50 pass the gates before any finishes, so only reservations stand between them and the budget.
    const wave1 = await Promise.all(Array.from({ length: 50 }, () => admit(h, key)))
    const admitted1 = wave1.filter((r) => !r.refused)
    expect(admitted1).toHaveLength(10)
    for (const { refused } of wave1.filter((r) => r.refused)) {
      expect(refused.status).toBe(403)
      expect(refused.type).toBe('insufficient_quota')
      expect(refused.code).toBe('insufficient_quota')
    }
    expect(await reservedUSD(h, id)).toBeCloseTo(worst * 10, 12)
    // Refused requests end too, but hold no reservation: the budget gave them no settle function.
    for (const { ctx } of wave1.filter((r) => r.refused)) {
      expect(ctx.settles).toHaveLength(0)
      await finish(h, usage, ctx, 0, 403)
    }
    expect(await reservedUSD(h, id)).toBeCloseTo(worst * 10, 12)
    for (const { ctx } of admitted1) await finish(h, usage, ctx, worst / 2)
    expect(await reservedUSD(h, id)).toBeCloseTo(0, 12)

    // Wave 2, interleaved: requests finish while others are admitted. 5.5 worst-cases are left.
    const wave2 = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const result = await admit(h, key)
        await new Promise((resolve) => setImmediate(resolve))
        if (!result.refused) await finish(h, usage, result.ctx, worst / 2)
        return result
      }),
    )
    const admitted2 = wave2.filter((r) => !r.refused).length
    expect(admitted2).toBeGreaterThanOrEqual(5)
    expect(admitted2).toBeLessThanOrEqual(11)
    expect(usage.total(id)).toBeLessThanOrEqual(worst * 10.5 + 1e-12)
    const spend = await h.admin('GET', `/admin/keys/${id}/spend`)
    expect(spend.body.spentUSD.month).toBeCloseTo(usage.total(id), 12)
    expect(spend.body.reservedUSD).toBeCloseTo(0, 12)
  })

  it('counts spend from other processes read through the spend service', async () => {
    const { h, usage, id, key } = await budgetedKey({ maxUSD: 1, period: 'day' })
    usage.recordCost(id, h.clock.now() - 1000, 0.9999)
    const { refused } = await admit(h, key)
    expect(refused?.status).toBe(403)
    expect(refused?.message).toMatch(/\$1\.00 spent this day/)
  })

  it('re-reads spend after spendRefreshMs, and a new period starts from zero', async () => {
    const { h, usage, id, key } = await budgetedKey({ maxUSD: 0.01, period: 'day' })
    expect((await admit(h, key)).refused).toBeUndefined()
    usage.recordCost(id, h.clock.now(), 0.01) // spent elsewhere
    h.clock.advance(1000)
    await admit(h, key) // starts the background refresh
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect((await admit(h, key)).refused?.code).toBe('insufficient_quota')
    h.clock.advance(86_400_000) // tomorrow
    expect((await admit(h, key)).refused).toBeUndefined()
  })

  it('prices the worst case at the dearest target of the plan', async () => {
    const { h, key } = await budgetedKey({ maxUSD: 1 })
    const plan = [
      { provider: 'openai', model: 'gpt-4o-mini' },
      { provider: 'openai', model: 'gpt-4o' },
    ]
    const { id } = (await h.admin('GET', '/admin/keys')).body.data[0]
    expect((await admit(h, key, { model: 'fast', plan })).refused).toBeUndefined()
    const dear = worstCaseCostUSD(testContext({ body: { ...BODY, model: 'fast' }, plan: [plan[1]!] }), memoryUsageServices(PRICES).pricing, 4096)
    // The core's estimates: the body's strings and keys (model 5 + fast 4 + max_tokens 10 + messages 8 + role 4 +
    // user 4 + content 7 + 200 x's = 242 characters) are 61 input tokens; the output is max_tokens 100. At gpt-4o:
    expect(dear).toBeCloseTo(61 * 5e-6 + 100 * 20e-6, 15)
    expect(await reservedUSD(h, id)).toBeCloseTo(dear, 15)
  })

  it('refuses a budgeted key on an unpriced model with 403', async () => {
    const { h, key } = await budgetedKey({ maxUSD: 1 })
    const { refused } = await admit(h, key, { model: 'ollama/llama3.2' })
    expect(refused?.status).toBe(403)
    expect(refused?.code).toBe('model_not_priced')
  })

  it('refuses budgeted keys with 503 and warns once when no plugin can measure spend', async () => {
    const { h, key } = await budgetedKey({ maxUSD: 1 }, false)
    for (let i = 0; i < 3; i++) {
      const { refused } = await admit(h, key)
      expect(refused?.status).toBe(503)
      expect(refused?.code).toBe('budget_unavailable')
    }
    expect(h.logs.filter((l) => l.type === 'warn')).toHaveLength(1)
    // Keys without a budget are unaffected.
    const { body } = await h.admin('POST', '/admin/keys', { name: 'free' })
    expect((await admit(h, body.key)).refused).toBeUndefined()
  })

  it('the settle function its limit hook returns settles the reservation exactly once', async () => {
    const { h, usage, id, key } = await budgetedKey({ maxUSD: 1 })
    const { ctx } = await admit(h, key)
    expect(ctx.settles).toHaveLength(1)
    const [settle] = ctx.settles
    expect(await reservedUSD(h, id)).toBeGreaterThan(0)
    const record = await finish(h, usage, ctx, 0.001)
    expect(await reservedUSD(h, id)).toBe(0)
    await settle!(record) // again: nothing more is released or counted
    const spend = (await h.admin('GET', `/admin/keys/${id}/spend`)).body
    expect(spend.reservedUSD).toBe(0)
    expect(spend.spentUSD.month).toBeCloseTo(0.001, 12)
  })

  it('releases the reservation of a request a later gate refused (the governor, after keys)', async () => {
    const { h, usage, id, key } = await budgetedKey({ maxUSD: 1 }, true, [governor({ perKey: { rpm: 1, burst: 1 } })])
    const first = await admit(h, key)
    expect(first.refused).toBeUndefined()
    const worst = await reservedUSD(h, id)
    expect(worst).toBeGreaterThan(0)

    const second = await admit(h, key)
    expect(second.refused).toMatchObject({ status: 429, code: 'rate_limit_exceeded' })
    // The budget had reserved for it before the governor refused: its settle function is pending.
    expect(second.ctx.settles).toHaveLength(1)
    expect(await reservedUSD(h, id)).toBeCloseTo(2 * worst, 15)
    await finish(h, usage, second.ctx, 0, 429)
    expect(await reservedUSD(h, id)).toBeCloseTo(worst, 15)
    await finish(h, usage, first.ctx, worst / 2)
    expect(await reservedUSD(h, id)).toBe(0)
  })
})

describe('budget settle functions in a gateway', () => {
  const ADMIN = 'admin-key-for-budget-tests-0123456789'
  const KEY = 'sk-test-budget-abort-0123456789abcdef'

  /** pricing and spend from memory, as the usage plugin would provide them. */
  const memoryUsage = definePlugin((services: ReturnType<typeof memoryUsageServices>) => ({
    name: 'memory-usage',
    setup(gw) {
      gw.provide('pricing', services.pricing)
      gw.provide('spend', services.spend)
    },
  }))

  it('releases the reservation of a request the client aborts while the upstream is slow', async () => {
    const slowThenQuick = (call: number): ScriptedReply => (call === 1 ? { text: 'never sent', delayMs: 600_000 } : { text: 'ok' })
    const provider = scriptedProvider({ name: 'openai', models: ['gpt-4o-mini'], replies: slowThenQuick })
    const gw = await createTestGateway({
      adminKey: ADMIN,
      plugins: [provider, memoryUsage(memoryUsageServices(PRICES)), keys({ keys: [{ name: 'budgeted', key: KEY, budget: { maxUSD: 1, period: 'month' } }] })],
    })
    try {
      const reserved = async () => (await (await gw.fetch(`${gw.url}/admin/keys/cfg.budgeted/spend`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()).reservedUSD
      const client = new AbortController()
      const abandoned = gw.fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(BODY), signal: client.signal,
      })
      await vi.waitFor(() => expect(provider.calls).toHaveLength(1)) // admitted, reserved, waiting on the upstream
      expect(await reserved()).toBeGreaterThan(0)

      client.abort()
      expect((await abandoned).status).toBe(499)
      const [record] = await gw.waitForRecords(1)
      expect(record).toMatchObject({ outcome: 'client_abort', principalId: 'cfg.budgeted' })
      expect(await reserved()).toBe(0)
      // The key still works: nothing is left held.
      expect((await gw.chat(BODY, { authorization: `Bearer ${KEY}` })).status).toBe(200)
    } finally {
      await gw.close()
    }
  })
})
