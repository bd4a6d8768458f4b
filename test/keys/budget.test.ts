import { afterEach, describe, expect, it } from 'vitest'
import type { RequestContext } from '../../core/types.ts'
import { periodStart } from '../../plugins/keys/budget.ts'
import { worstCaseCostUSD } from '../../plugins/keys/estimate.ts'
import { gatewayErrorOf, memoryUsageServices, recordFor, requestContext, startKeys, type Harness } from './helpers.ts'

const PRICES = { 'openai/gpt-4o-mini': { input: 1e-6, output: 4e-6 }, 'openai/gpt-4o': { input: 5e-6, output: 20e-6 } }
const BODY = { model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'x'.repeat(200) }] }

let harness: Harness | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

async function budgetedKey(budget: { maxUSD: number; period?: string }, withServices = true) {
  const h = (harness = await startKeys())
  const usage = memoryUsageServices(PRICES)
  if (withServices) {
    h.services.set('pricing', usage.pricing)
    h.services.set('spend', usage.spend)
  }
  const { body } = await h.admin('POST', '/admin/keys', { name: 'budgeted', budget })
  return { h, usage, id: body.id as string, key: body.key as string }
}

/** A gate-phase pass as the core runs it: auth, route (plan set by hand), limit. */
async function admit(h: Harness, key: string, init: Parameters<typeof requestContext>[0] = {}): Promise<{ ctx: RequestContext; refused?: any }> {
  const ctx = requestContext({ key, body: BODY, model: 'openai/gpt-4o-mini', ...init })
  const refused = await gatewayErrorOf(async () => {
    await h.plugin.hooks!.auth!(ctx)
    await h.plugin.hooks!.limit!(ctx)
  })
  return { ctx, refused }
}

/** The end of a request as the core runs it: the usage plugin counts the cost, then keys settles. */
function finish(h: Harness, usage: ReturnType<typeof memoryUsageServices>, ctx: RequestContext, costUSD: number) {
  if (ctx.principal && costUSD > 0) usage.recordCost(ctx.principal.id, h.clock.now(), costUSD)
  return h.plugin.hooks!.record!(recordFor(ctx, costUSD), ctx)
}

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
    const probe = requestContext({ body: BODY, plan: [{ provider: 'openai', model: 'gpt-4o-mini' }] })
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
    expect((await h.admin('GET', `/admin/keys/${id}/spend`)).body.reservedUSD).toBeCloseTo(worst * 10, 12)
    // Refused requests still reach `record`; they hold no reservation to release.
    for (const { ctx } of wave1.filter((r) => r.refused)) await finish(h, usage, ctx, 0)
    for (const { ctx } of admitted1) await finish(h, usage, ctx, worst / 2)
    expect((await h.admin('GET', `/admin/keys/${id}/spend`)).body.reservedUSD).toBeCloseTo(0, 12)

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
    const { ctx } = await admit(h, key, { model: 'fast', plan })
    const dear = worstCaseCostUSD(requestContext({ body: BODY, plan: [plan[1]!] }), memoryUsageServices(PRICES).pricing, 4096)
    expect(ctx.state.keys.reservation.amountUSD).toBeCloseTo(dear, 15)
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

  it('settles a reservation once, whatever the record hook is called with', async () => {
    const { h, usage, id, key } = await budgetedKey({ maxUSD: 1 })
    const { ctx } = await admit(h, key)
    await finish(h, usage, ctx, 0.001)
    await h.plugin.hooks!.record!(recordFor(ctx, 0.001), ctx)
    expect((await h.admin('GET', `/admin/keys/${id}/spend`)).body.reservedUSD).toBe(0)
  })
})
