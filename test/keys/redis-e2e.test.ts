/**
 * Two gateway PROCESSES (`bin/sluice.mjs start`) sharing their keys through real Redis: storage on Redis under a
 * per-run prefix and the keys plugin's pub/sub on a per-run channel. Their key cache lives 60 s
 * (keys-redis.config.ts), so a change seen within a second on the other process can only have come by pub/sub.
 * The `sluice keys` CLI on the same config publishes too.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { eventually } from '../helpers/gateway.ts'
import { ADMIN_KEY, KEY_FORMAT, adminApi, chat, runSluice, spawnGateway, type GatewayProcess } from './e2e.ts'

const url = process.env.REDIS_URL
if (!url) console.warn('test/keys/redis-e2e.test.ts: REDIS_URL is not set; skipping the two-process Redis tests')

const CONFIG = 'test/configs/keys-redis.config.ts'
const PROPAGATION_MS = 1000

describe.skipIf(!url)('two gateway processes sharing Redis', () => {
  const run = randomUUID()
  const prefix = `sluice-test-keys-e2e:${run}`
  const env = { REDIS_URL: url!, SLUICE_KEYS_ADMIN_KEY: ADMIN_KEY, SLUICE_KEYS_REDIS_PREFIX: prefix, SLUICE_KEYS_CHANNEL: `sluice-test:keys:${run}` }
  let a: GatewayProcess
  let b: GatewayProcess

  beforeAll(async () => {
    ;[a, b] = await Promise.all([spawnGateway(CONFIG, env), spawnGateway(CONFIG, env)])
  })

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    const redis = new Redis(url!)
    try {
      const keys = await redis.keys(`${prefix}:*`)
      if (keys.length) await redis.del(...keys)
    } finally {
      redis.disconnect()
    }
  })

  const hello = { model: 'echo/echo-1', messages: [{ role: 'user', content: 'hello from b' }] }
  const statusOn = async (gateway: GatewayProcess, key: string) => (await chat(gateway.url, key, hello)).status

  it('a key created on A works on B; revoked on A, B refuses it within one second', async () => {
    const created = await adminApi(a.url)('POST', '/keys', { name: 'shared', models: ['echo/*'] })
    expect(created.status).toBe(201)
    const { id, key } = created.body
    const onB = await chat(b.url, key, hello)
    expect(onB.status).toBe(200)
    expect((await onB.json()).choices[0].message.content).toBe('hello from b')
    expect(await statusOn(b, key)).toBe(200) // now in B's 60-second cache

    expect((await adminApi(a.url)('DELETE', `/keys/${id}`)).status).toBe(200)
    await eventually(async () => expect(await statusOn(b, key)).toBe(401), PROPAGATION_MS)
    const refused = await chat(b.url, key, hello)
    expect((await refused.json()).error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' })
    expect((await adminApi(b.url)('GET', `/keys/${id}`)).body.status).toBe('revoked')
  })

  it('a rotation and a model change on B reach A within one second', async () => {
    const { id, key } = (await adminApi(b.url)('POST', '/keys', { name: 'rotating', models: ['echo/*'] })).body
    expect(await statusOn(a, key)).toBe(200)

    const rotated = (await adminApi(b.url)('POST', `/keys/${id}/rotate`)).body
    await eventually(async () => expect(await statusOn(a, key)).toBe(401), PROPAGATION_MS)
    expect(await statusOn(a, rotated.key)).toBe(200)

    await adminApi(b.url)('PATCH', `/keys/${id}`, { models: ['other/*'] })
    await eventually(async () => expect(await statusOn(a, rotated.key)).toBe(403), PROPAGATION_MS)
  })

  it('sluice keys create/revoke on the same config: the key works on the running gateways, the revocation reaches them within one second', async () => {
    const created = await runSluice(['keys', 'create', '--name', 'from-cli', '--models', 'echo/*', '--json', '--config', CONFIG], env)
    expect(created.code).toBe(0) // the command exits by itself: its Redis connections are closed
    const { id, key } = JSON.parse(created.stdout.trim().split('\n').at(-1)!)
    expect(key).toMatch(KEY_FORMAT)
    expect(await statusOn(a, key)).toBe(200)
    expect(await statusOn(b, key)).toBe(200)

    const listed = await runSluice(['keys', 'list', '--config', CONFIG], env)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`${id}\\tactive\\tfrom-cli`))
    expect(listed.stdout).not.toContain(key)

    const revoked = await runSluice(['keys', 'revoke', id, '--config', CONFIG], env)
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toMatch(/Revoked key/)
    await eventually(async () => {
      expect(await statusOn(a, key)).toBe(401)
      expect(await statusOn(b, key)).toBe(401)
    }, PROPAGATION_MS)
  })
})
