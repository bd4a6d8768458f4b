/**
 * Brute force and fuzz: malformed keys only ever get the one 401, admin payloads only ever get 2xx/4xx.
 * Never a 500, never a crash, never an echo of the presented key.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatKey, newSecret } from '../../plugins/keys/key-format.ts'
import { KeyCache } from '../../plugins/keys/key-cache.ts'
import { startKeys, type KeysRig } from './helpers.ts'

let h: KeysRig
let realKey: string
let realId: string
beforeAll(async () => {
  h = await startKeys({ keys: [{ name: 'cfg', key: 'config-key-0123456789abcdef' }] })
  const { body } = await h.admin('POST', '/admin/keys', { name: 'real' })
  realKey = body.key
  realId = body.id
})
afterAll(() => h.close())

const base62 = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.split(''))
const headerSafe = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 700 })

const malformedKey = () => fc.oneof(
  headerSafe,
  fc.string({ unit: base62, minLength: 0, maxLength: 80 }).map((s) => `sk-sluice-${s}`),
  fc.tuple(fc.string({ unit: base62, minLength: 11, maxLength: 13 }), fc.string({ unit: base62, minLength: 40, maxLength: 46 })).map(([id, secret]) => `sk-sluice-${id}-${secret}`),
  fc.string({ unit: base62, minLength: 43, maxLength: 43 }).map(() => formatKey(realId, newSecret())),
  fc.nat({ max: 60 }).map((n) => realKey.slice(0, n) + realKey.slice(n + 1)),
  fc.constantFrom('sk-sluice--', 'Bearer', 'sk-sluice-../../etc-passwd', `${realKey} ${realKey}`, 'config-key-0123456789abcde'),
)

describe('brute force of keys', () => {
  it('answers every malformed or guessed key with the same 401', async () => {
    await fc.assert(
      fc.asyncProperty(malformedKey(), fc.constantFrom('authorization', 'x-api-key') as fc.Arbitrary<'authorization' | 'x-api-key'>, async (token, header) => {
        fc.pre(token !== realKey)
        const error = await h.auth(h.request({ key: token, header }))
        expect(error?.status).toBe(401)
        if (token.length >= 12) expect(error!.message).not.toContain(token)
      }),
      { numRuns: 400 },
    )
  })

  it('keeps nothing in memory for a flood of random unknown ids', async () => {
    const cache = new KeyCache({ positiveTtlMs: 5000, now: () => 0, load: async () => undefined })
    for (let i = 0; i < 10_050; i++) await cache.load(String(i).padStart(12, '0'))
    expect(cache.size).toBe(0)
  })
})

describe('fuzz of admin payloads', () => {
  const okStatuses = new Set([200, 201, 400, 404, 409, 413])

  it('never answers POST /admin/keys with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.object(), fc.string()), async (payload) => {
        const res = await h.admin('POST', '/admin/keys', typeof payload === 'string' ? payload : JSON.stringify(payload))
        expect(okStatuses.has(res.status), `${res.status} ${JSON.stringify(res.body)}`).toBe(true)
        if (res.status >= 400) expect(typeof res.body.error.message).toBe('string')
      }),
      { numRuns: 300 },
    )
  })

  it('never answers PATCH with a 5xx, for valid-looking and random fields', async () => {
    const field = fc.record(
      {
        name: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
        models: fc.oneof(fc.array(fc.string()), fc.constant(null), fc.string()),
        limits: fc.oneof(fc.record({ rpm: fc.oneof(fc.integer(), fc.double()), maxConcurrent: fc.anything() }, { requiredKeys: [] }), fc.constant(null)),
        budget: fc.oneof(fc.record({ maxUSD: fc.double(), period: fc.string() }, { requiredKeys: [] }), fc.constant(null)),
        expiresAt: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constant(null)),
        tags: fc.oneof(fc.dictionary(fc.string(), fc.anything()), fc.constant(null)),
      },
      { requiredKeys: [] },
    )
    await fc.assert(
      fc.asyncProperty(fc.oneof(field, fc.anything()), async (payload) => {
        const body = JSON.stringify(payload)
        const res = await h.admin('PATCH', `/admin/keys/${realId}`, body === undefined ? '' : body)
        expect(okStatuses.has(res.status), `${res.status} ${JSON.stringify(res.body)}`).toBe(true)
        if (res.status === 200) expect(JSON.stringify(res.body)).not.toContain('"hash"')
      }),
      { numRuns: 300 },
    )
  })

  it('never answers a random id in the path with a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 300 }), fc.constantFrom('GET', 'DELETE', 'PATCH', 'POST'), async (raw, method) => {
        const id = encodeURIComponent(raw)
        const path = method === 'POST' ? `/admin/keys/${id}/rotate` : `/admin/keys/${id}`
        const res = await h.admin(method, path, method === 'PATCH' ? { name: 'x' } : undefined)
        expect(res.status, `${method} ${path} -> ${res.status}`).toBeLessThan(500)
      }),
      { numRuns: 300 },
    )
  })

  it('logged no internal error along the way', () => {
    expect(h.logs.filter((l) => l.type === 'error')).toEqual([])
  })
})
