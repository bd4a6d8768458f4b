import { afterEach, describe, expect, it } from 'vitest'
import { parseKey } from '../../plugins/keys/key-format.ts'
import { memoryUsageServices, startKeys, type KeysRig } from './helpers.ts'

let harness: KeysRig | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

async function start(...args: Parameters<typeof startKeys>) {
  harness = await startKeys(...args)
  return harness
}

describe('admin API: key lifecycle', () => {
  it('creates, lists, gets, updates, rotates and revokes a key', async () => {
    const h = await start()
    const created = await h.admin('POST', '/admin/keys', {
      name: 'alice',
      models: ['openai/*', 'fast'],
      limits: { rpm: 10 },
      budget: { maxUSD: 25, period: 'month' },
      expiresAt: '2030-01-01T00:00:00Z',
      tags: { team: 'research' },
    })
    expect(created.status).toBe(201)
    const { id, key } = created.body
    expect(key).toMatch(/^sk-sluice-/)
    expect(parseKey(key)!.id).toBe(id)
    expect(created.body).toMatchObject({
      name: 'alice',
      status: 'active',
      models: ['openai/*', 'fast'],
      limits: { rpm: 10 },
      budget: { maxUSD: 25, period: 'month' },
      expiresAt: '2030-01-01T00:00:00.000Z',
      tags: { team: 'research' },
      source: 'storage',
    })
    const secret = parseKey(key)!.secret

    // Neither the secret nor its hash ever leaves again.
    const stored = (await h.gw.storage.getItem<{ hash: string }>(`key:${id}`))!
    expect(JSON.stringify(stored)).not.toContain(secret)
    const list = await h.admin('GET', '/admin/keys')
    expect(list.status).toBe(200)
    expect(list.body.data.map((k: any) => k.id)).toEqual([id])
    const get = await h.admin('GET', `/admin/keys/${id}`)
    for (const body of [list.body, get.body]) {
      const text = JSON.stringify(body)
      expect(text).not.toContain(secret)
      expect(text).not.toContain(stored.hash)
      expect(text).not.toContain('"hash"')
    }
    expect(get.body).toMatchObject({ id, name: 'alice' })

    const patched = await h.admin('PATCH', `/admin/keys/${id}`, { name: 'alice-2', models: null, limits: { rpm: 20, tpm: 500 }, expiresAt: null })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ name: 'alice-2', limits: { rpm: 20, tpm: 500 }, budget: { maxUSD: 25 } })
    expect(patched.body.models).toBeUndefined()
    expect(patched.body.expiresAt).toBeUndefined()
    // The change applies to the next request at once.
    const ctx = h.request({ key, model: 'anthropic/claude-sonnet-4-5' })
    expect(await h.auth(ctx)).toBeUndefined()
    expect(ctx.principal).toMatchObject({ name: 'alice-2', limits: { rpm: 20, tpm: 500 } })

    const rotated = await h.admin('POST', `/admin/keys/${id}/rotate`)
    expect(rotated.status).toBe(200)
    expect(rotated.body.id).toBe(id)
    expect(rotated.body.key).not.toBe(key)
    expect((await h.auth(h.request({ key })))?.status).toBe(401)
    expect(await h.auth(h.request({ key: rotated.body.key }))).toBeUndefined()

    const revoked = await h.admin('DELETE', `/admin/keys/${id}`)
    expect(revoked.status).toBe(200)
    expect(revoked.body.status).toBe('revoked')
    expect((await h.auth(h.request({ key: rotated.body.key })))?.status).toBe(401)
    expect((await h.admin('DELETE', `/admin/keys/${id}`)).status).toBe(200) // idempotent
    expect((await h.admin('POST', `/admin/keys/${id}/rotate`)).status).toBe(409)
    expect((await h.admin('PATCH', `/admin/keys/${id}`, { name: 'x' })).status).toBe(409)
    expect((await h.admin('GET', '/admin/keys')).body.data[0].status).toBe('revoked')
  })

  it('shows expired keys as expired', async () => {
    const h = await start()
    const { body } = await h.admin('POST', '/admin/keys', { name: 'short', expiresAt: h.clock.now() + 1000 })
    h.clock.advance(1000)
    expect((await h.admin('GET', `/admin/keys/${body.id}`)).body.status).toBe('expired')
  })

  it('lists config keys read-only', async () => {
    const h = await start({ keys: [{ name: 'ops', key: 'ops-key-0123456789abcdef' }] })
    const list = await h.admin('GET', '/admin/keys')
    expect(list.body.data).toEqual([expect.objectContaining({ id: 'cfg.ops', source: 'config', status: 'active' })])
    expect(JSON.stringify(list.body)).not.toContain('ops-key-0123456789abcdef')
    const patch = await h.admin('PATCH', '/admin/keys/cfg.ops', { name: 'x' })
    expect(patch.status).toBe(409)
    expect((await h.admin('DELETE', '/admin/keys/cfg.ops')).status).toBe(409)
  })

  it('answers 404 for unknown ids and 400 naming the field for bad payloads', async () => {
    const h = await start()
    for (const [method, path] of [
      ['GET', '/admin/keys/AAAAAAAAAAAA'],
      ['DELETE', '/admin/keys/AAAAAAAAAAAA'],
      ['POST', '/admin/keys/AAAAAAAAAAAA/rotate'],
      ['GET', '/admin/keys/AAAAAAAAAAAA/spend'],
      ['GET', '/admin/keys/..%2F..%2Fetc'],
    ] as const) {
      const res = await h.admin(method, path)
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(res.body.error.type).toBe('not_found_error')
    }
    const cases: Array<[unknown, string]> = [
      ['{not json', 'not valid JSON'],
      ['', 'must be a JSON object'],
      [[], 'expected object'],
      [{}, 'field "name" is required'],
      [{ name: '' }, 'field "name"'],
      [{ name: 'x', extra: 1 }, 'unknown field "extra"'],
      [{ name: 'x', budget: { maxUSD: -1 } }, 'field "budget.maxUSD"'],
      [{ name: 'x', budget: { maxUSD: 1, period: 'year' } }, 'field "budget.period"'],
      [{ name: 'x', limits: { rpm: 1.5 } }, 'field "limits.rpm"'],
      [{ name: 'x', models: 'openai/*' }, 'field "models"'],
      [{ name: 'x', expiresAt: 'tomorrow' }, 'field "expiresAt"'],
      [{ name: 'x', tags: { team: 1 } }, 'field "tags.team"'],
    ]
    for (const [payload, message] of cases) {
      const res = await h.admin('POST', '/admin/keys', payload)
      expect(res.status, JSON.stringify(payload)).toBe(400)
      expect(res.body.error.message).toContain(message)
      expect(res.body.error.type).toBe('invalid_request_error')
    }
    const big = await h.admin('POST', '/admin/keys', JSON.stringify({ name: 'x'.repeat(70_000) }))
    expect(big.status).toBe(413)
    expect(h.logs.filter((l) => l.type === 'error')).toEqual([])
  })

  it('reports spend per period and what is left of the budget', async () => {
    const h = await start()
    const usage = memoryUsageServices({ 'openai/gpt-4o-mini': { input: 1e-6, output: 2e-6 } })
    const { body } = await h.admin('POST', '/admin/keys', { name: 'b', budget: { maxUSD: 10, period: 'day' } })
    const noSpend = await h.admin('GET', `/admin/keys/${body.id}/spend`)
    expect(noSpend.status).toBe(503)
    h.services.set('pricing', usage.pricing)
    h.services.set('spend', usage.spend)
    usage.recordCost(body.id, h.clock.now() - 2 * 86_400_000, 3) // two days ago: in this month, not today
    usage.recordCost(body.id, h.clock.now() - 1000, 1.5)
    const res = await h.admin('GET', `/admin/keys/${body.id}/spend`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      id: body.id,
      spentUSD: { day: 1.5, week: 4.5, month: 4.5, total: 4.5 },
      reservedUSD: 0,
      budget: { maxUSD: 10, period: 'day', remainingUSD: 8.5, periodStart: '2025-01-15T00:00:00.000Z' },
    })
  })
})
