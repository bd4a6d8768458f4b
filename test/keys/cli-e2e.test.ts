/**
 * `sluice keys create|list|revoke --config <file>` as separate processes, against the fs storage a running
 * gateway process uses (keys-e2e.config.ts, in a per-run directory). Without Redis pub/sub the gateway picks up a
 * revocation within its cache TTL (1 s by default).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually } from '../helpers/gateway.ts'
import { ADMIN_KEY, KEY_FORMAT, adminApi, runSluice, spawnGateway, tempDir, type GatewayProcess } from './e2e.ts'

const CONFIG = 'test/configs/keys-e2e.config.ts'
const CACHE_TTL_MS = 1000

let mock: MockOpenAI
let dir: ReturnType<typeof tempDir>
let gateway: GatewayProcess
let env: Record<string, string>

beforeAll(async () => {
  dir = tempDir('cli')
  mock = await startMockOpenAI()
  env = { SLUICE_KEYS_TEST_DIR: dir.path, SLUICE_KEYS_ADMIN_KEY: ADMIN_KEY, MOCK_OPENAI_URL: mock.url }
  gateway = await spawnGateway(CONFIG, env)
})
afterAll(async () => {
  await gateway?.stop()
  await mock?.close()
  dir?.remove()
})

const sluice = (...args: string[]) => runSluice([...args, '--config', CONFIG], env)

describe('sluice keys against a running gateway', () => {
  it('creates a key the gateway serves, lists it without its secret, and revokes it', async () => {
    const created = await sluice('keys', 'create', '--name', 'cli-e2e', '--models', 'openai/gpt-4o-mini,echo/*', '--budget', '2', '--period', 'month', '--rpm', '60')
    expect(created.code).toBe(0)
    const key = /sk-sluice-\S+/.exec(created.stdout)?.[0]
    expect(key).toMatch(KEY_FORMAT)
    const id = /Created key (\S+)/.exec(created.stdout)![1]!

    // The running gateway serves it (priced model, so the budget can be kept) and limits it to its models.
    const client = new OpenAI({ apiKey: key!, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
    const answer = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', max_tokens: 8, messages: [{ role: 'user', content: 'from the cli' }] })
    expect(answer.choices[0]!.message.content).toBe('echo: from the cli')
    const denied = await client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(denied.status).toBe(403)
    expect(denied.error.code).toBe('model_not_allowed')

    // The admin API of the gateway sees what the CLI wrote.
    const view = (await adminApi(gateway.url)('GET', `/keys/${id}`)).body
    expect(view).toMatchObject({ id, name: 'cli-e2e', budget: { maxUSD: 2, period: 'month' }, limits: { rpm: 60 }, status: 'active' })

    const listed = await sluice('keys', 'list')
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`${id}\\tactive\\tcli-e2e models=openai/gpt-4o-mini,echo/\\* budget=\\$2/month`))
    expect(listed.stdout).not.toContain(key!.slice(-43))
    const json = await sluice('keys', 'list', '--json')
    expect(JSON.parse(json.stdout).find((k: any) => k.id === id)).toMatchObject({ name: 'cli-e2e', status: 'active' })
    expect(json.stdout).not.toContain('"hash"')

    const revoked = await sluice('keys', 'revoke', id)
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain(`Revoked key ${id}`)
    await eventually(async () => {
      const error = await client.chat.completions.create({ model: 'echo/echo-1', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    }, CACHE_TTL_MS + 2000)
    expect((await sluice('keys', 'list')).stdout).toMatch(new RegExp(`${id}\\trevoked`))
  })

  it('a key created through the gateway admin API is listed and revoked by the CLI', async () => {
    const { id } = (await adminApi(gateway.url)('POST', '/keys', { name: 'from-admin-api' })).body
    expect((await sluice('keys', 'list')).stdout).toMatch(new RegExp(`${id}\\tactive\\tfrom-admin-api`))
    expect((await sluice('keys', 'revoke', id)).code).toBe(0)
    await eventually(async () => expect((await adminApi(gateway.url)('GET', `/keys/${id}`)).body.status).toBe('revoked'))
  })

  it('exits non-zero with a message naming the flag or the id', async () => {
    const bad = await sluice('keys', 'create', '--name', 'x', '--budget', 'lots')
    expect(bad.code).not.toBe(0)
    expect(bad.stdout + bad.stderr).toContain('--budget must be a number')
    const missing = await sluice('keys', 'revoke', 'AAAAAAAAAAAA')
    expect(missing.code).not.toBe(0)
    expect(missing.stdout + missing.stderr).toContain('no key with id "AAAAAAAAAAAA"')
  })
})
