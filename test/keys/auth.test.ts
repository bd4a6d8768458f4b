import { afterEach, describe, expect, it } from 'vitest'
import { createStorage } from 'unstorage'
import { formatKey, parseKey, newKeyId, newSecret } from '../../plugins/keys/key-format.ts'
import { compileModelMatcher } from '../../plugins/keys/model-match.ts'
import { fakeClock, startKeys, type KeysRig } from './helpers.ts'

const INVALID = 'Invalid API key: it is unknown, revoked or expired.'
let harnesses: KeysRig[] = []
afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.close()))
  harnesses = []
})

async function start(...args: Parameters<typeof startKeys>) {
  const h = await startKeys(...args)
  harnesses.push(h)
  return h
}

async function createKey(h: KeysRig, payload: Record<string, unknown> = { name: 'test' }) {
  const res = await h.admin('POST', '/admin/keys', payload)
  expect(res.status).toBe(201)
  return res.body as { id: string; key: string }
}

describe('key format', () => {
  it('issues sk-sluice-<12 base62>-<43 base62> keys that parse back', () => {
    const id = newKeyId()
    const secret = newSecret()
    const key = formatKey(id, secret)
    expect(key).toMatch(/^sk-sluice-[0-9A-Za-z]{12}-[0-9A-Za-z]{43}$/)
    expect(parseKey(key)).toEqual({ id, secret })
    expect(new Set(Array.from({ length: 200 }, newKeyId)).size).toBe(200)
  })

  it('rejects near misses', () => {
    const key = formatKey(newKeyId(), newSecret())
    for (const bad of [key.slice(0, -1), `${key}x`, key.replace('sk-sluice-', 'sk-sluise-'), key.replace(/-(?=[^-]*$)/, '_'), `${key.slice(0, -1)}!`]) {
      expect(parseKey(bad)).toBeUndefined()
    }
  })
})

describe('model allow-lists', () => {
  it('matches exact names, aliases and globs', () => {
    const allows = compileModelMatcher(['openai/*', 'fast', 'anthropic/claude-*-4-5', 'a.b'])
    expect(allows('openai/gpt-4o')).toBe(true)
    expect(allows('openai/')).toBe(true)
    expect(allows('fast')).toBe(true)
    expect(allows('anthropic/claude-sonnet-4-5')).toBe(true)
    expect(allows('anthropic/claude-sonnet-4-0')).toBe(false)
    expect(allows('faster')).toBe(false)
    expect(allows('axb')).toBe(false) // `.` is literal
    expect(compileModelMatcher(undefined)('anything')).toBe(true)
    expect(compileModelMatcher([])('anything')).toBe(false)
    expect(compileModelMatcher(['*'])('x/y')).toBe(true)
  })
})

describe('auth hook', () => {
  it('refuses a request without a key with 401', async () => {
    const h = await start()
    const error = await h.auth(h.request({}))
    expect(error?.status).toBe(401)
    expect(error?.code).toBe('missing_api_key')
  })

  it('accepts a created key as Bearer or x-api-key and sets the principal', async () => {
    const h = await start()
    const { id, key } = await createKey(h, {
      name: 'team-a',
      tags: { team: 'a' },
      limits: { rpm: 60, tpm: 1000, maxConcurrent: 2 },
      models: ['openai/*'],
    })
    for (const header of ['authorization', 'x-api-key'] as const) {
      const ctx = h.request({ key, header })
      expect(await h.auth(ctx)).toBeUndefined()
      expect(ctx.principal).toMatchObject({ id, name: 'team-a', tags: { team: 'a' }, limits: { rpm: 60, tpm: 1000, maxConcurrent: 2 }, models: ['openai/*'] })
    }
  })

  it('answers unknown id, wrong secret, revoked and expired keys with one 401 that never echoes the key', async () => {
    const h = await start()
    const { id, key } = await createKey(h, { name: 'soon-expired', expiresAt: h.clock.now() + 60_000 })
    const { id: revokedId, key: revokedKey } = await createKey(h)
    expect((await h.admin('DELETE', `/admin/keys/${revokedId}`)).status).toBe(200)

    const unknownId = formatKey(newKeyId(), newSecret())
    const wrongSecret = formatKey(id, newSecret())
    const tries = [unknownId, wrongSecret, revokedKey]
    h.clock.advance(60_000)
    tries.push(key) // now expired
    for (const token of tries) {
      const error = await h.auth(h.request({ key: token }))
      expect(error?.status).toBe(401)
      expect(error?.message).toBe(INVALID)
      expect(error?.code).toBe('invalid_api_key')
      expect(error?.message).not.toContain(token.slice(10))
    }
  })

  it('leaves the model to the core: passes auth whatever the model, and gives the principal its allow-list', async () => {
    // auth runs on headers, before the body (and so the model) is known; the core asks `principal.allowsModel`
    // once it is (see model-allow-list.test.ts for the 403 through a gateway).
    const h = await start()
    const { key } = await createKey(h, { name: 'limited', models: ['openai/gpt-4o-mini', 'fast', 'anthropic/*'] })
    const ctx = h.request({ key, model: 'openai/gpt-4o' })
    expect(await h.auth(ctx)).toBeUndefined()
    const allows = ctx.principal!.allowsModel!
    for (const model of ['openai/gpt-4o-mini', 'fast', 'anthropic/claude-sonnet-4-5']) expect(allows(model), model).toBe(true)
    for (const model of ['openai/gpt-4o', 'faster', 'anthropic']) expect(allows(model), model).toBe(false)

    const unrestricted = await createKey(h, { name: 'any-model' })
    const open = h.request({ key: unrestricted.key })
    expect(await h.auth(open)).toBeUndefined()
    expect(open.principal!.allowsModel!('any/model')).toBe(true)
  })

  it('accepts keys declared in the config, with their own allow-list', async () => {
    const clear = 'declared-key-0123456789abcdef'
    const h = await start({ keys: [{ name: 'ci', key: clear, models: ['fast'], tags: { env: 'ci' } }] })
    const ctx = h.request({ key: clear, model: 'fast', header: 'x-api-key' })
    expect(await h.auth(ctx)).toBeUndefined()
    expect(ctx.principal).toMatchObject({ id: 'cfg.ci', name: 'ci', tags: { env: 'ci' } })
    expect(ctx.principal!.allowsModel!('fast')).toBe(true)
    expect(ctx.principal!.allowsModel!('openai/gpt-4o')).toBe(false)
    const wrong = await h.auth(h.request({ key: `${clear}x` }))
    expect(wrong?.message).toBe(INVALID)
  })

  it('stops a key on this process the moment it is revoked, even while cached', async () => {
    const h = await start({ cacheTtlMs: 60_000 })
    const { id, key } = await createKey(h)
    expect(await h.auth(h.request({ key }))).toBeUndefined()
    await h.admin('DELETE', `/admin/keys/${id}`)
    expect((await h.auth(h.request({ key })))?.status).toBe(401)
  })

  it('on a replica without pub/sub, sees a revocation once its cache TTL has passed', async () => {
    const shared = createStorage()
    const clock = fakeClock()
    const a = await start({}, { storage: shared, clock })
    const b = await start({}, { storage: shared, clock })
    const { id, key } = await createKey(a)
    expect(await b.auth(b.request({ key }))).toBeUndefined() // cached on b
    await a.admin('DELETE', `/admin/keys/${id}`)
    clock.advance(1000) // the default TTL without pub/sub
    expect((await b.auth(b.request({ key })))?.message).toBe(INVALID)
  })

  it('does not remember an unknown id, so a key created elsewhere works at once', async () => {
    const shared = createStorage()
    const clock = fakeClock()
    const a = await start({ cacheTtlMs: 5000 }, { storage: shared, clock })
    const b = await start({ cacheTtlMs: 5000 }, { storage: shared, clock })
    // b has not seen the id yet: cache its absence by asking for a key whose id is then created on a.
    const { key } = await createKey(a)
    const id = parseKey(key)!.id
    const record = await b.gw.storage.getItem(`key:${id}`)
    await b.gw.storage.removeItem(`key:${id}`)
    expect((await b.auth(b.request({ key })))?.status).toBe(401)
    await a.gw.storage.setItem(`key:${id}`, record)
    expect(await b.auth(b.request({ key }))).toBeUndefined()
  })
})
