/**
 * Two gateway replicas sharing real Redis storage: a key revoked or rotated on one stops working on the other
 * within one second, through pub/sub. Both replicas' clocks are frozen, so the cache TTL cannot be what
 * catches the change.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createStorage, type Storage } from 'unstorage'
import redisDriver from 'unstorage/drivers/redis'
import { fakeClock, startKeys, type KeysRig } from './helpers.ts'

const url = process.env.REDIS_URL
if (!url) console.warn('test/keys/redis.test.ts: REDIS_URL is not set; skipping the cross-replica revocation tests')

describe.skipIf(!url)('keys shared through Redis', () => {
  const run = randomUUID()
  const storages: Storage[] = []
  let a: KeysRig
  let b: KeysRig

  beforeAll(async () => {
    const options = { redis: url!, channel: `sluice-test:keys:${run}`, cacheTtlMs: 60_000 }
    const replica = async () => {
      const storage = createStorage({ driver: redisDriver({ url: url!, base: `sluice-test:${run}` }) })
      storages.push(storage)
      return startKeys(options, { storage, clock: fakeClock() })
    }
    a = await replica()
    b = await replica()
  })

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()])
    await storages[0]?.clear()
    await Promise.all(storages.map((s) => s.dispose()))
  })

  const authOn = (h: KeysRig, key: string) => h.auth(h.request({ key }))
  /** Whether replica `h` lets `key` use `model` (the allow-list the core checks once the body is read). */
  const allowsOn = async (h: KeysRig, key: string, model: string) => {
    const ctx = h.request({ key, model })
    expect(await h.auth(ctx)).toBeUndefined()
    return ctx.principal!.allowsModel!(model)
  }

  it('a revocation on one replica is seen by the other within one second', async () => {
    const { body } = await a.admin('POST', '/admin/keys', { name: 'shared' })
    expect(await authOn(b, body.key)).toBeUndefined() // now cached on b for 60 s of frozen time
    expect((await a.admin('DELETE', `/admin/keys/${body.id}`)).status).toBe(200)
    expect((await authOn(a, body.key))?.status).toBe(401) // at once on a
    await vi.waitFor(async () => expect((await authOn(b, body.key))?.status).toBe(401), { timeout: 1000, interval: 10 })
  })

  it('a rotation and a model change on one replica are seen by the other within one second', async () => {
    const { body } = await a.admin('POST', '/admin/keys', { name: 'rotating' })
    expect(await authOn(b, body.key)).toBeUndefined()
    const rotated = await a.admin('POST', `/admin/keys/${body.id}/rotate`)
    await vi.waitFor(async () => expect((await authOn(b, body.key))?.status).toBe(401), { timeout: 1000, interval: 10 })
    expect(await authOn(b, rotated.body.key)).toBeUndefined()

    expect(await allowsOn(b, rotated.body.key, 'openai/gpt-4o-mini')).toBe(true)
    await a.admin('PATCH', `/admin/keys/${body.id}`, { models: ['anthropic/*'] })
    await vi.waitFor(async () => expect(await allowsOn(b, rotated.body.key, 'openai/gpt-4o-mini')).toBe(false), { timeout: 1000, interval: 10 })
  })

  it('lists the same keys on both replicas', async () => {
    const ids = (h: KeysRig) => h.admin('GET', '/admin/keys').then((r) => r.body.data.map((k: { id: string }) => k.id).sort())
    expect(await ids(b)).toEqual(await ids(a))
    expect((await ids(a)).length).toBe(2)
  })
})
