/**
 * A key in use is verified once: later requests with the same token skip the SHA-256, for as long as the key is
 * the current version. Revoking, updating or rotating it (or the cache's TTL running out) makes the token be
 * verified again, so a revocation still takes effect at once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { VerifiedTokens } from '../../plugins/keys/verified-tokens.ts'
import { startKeys, type KeysRig } from './helpers.ts'

let rig: KeysRig | undefined
afterEach(async () => { await rig?.close(); rig = undefined })

const request = (key: string) => ({ headers: { authorization: `Bearer ${key}` } })

describe('verified tokens', () => {
  it('remembers a token only while its key is current', () => {
    let current = true
    const tokens = new VerifiedTokens(() => current)
    const key = { record: { id: 'k', source: 'storage' } } as any
    tokens.remember('tok', key)
    expect(tokens.get('tok')).toBe(key)
    current = false
    expect(tokens.get('tok')).toBeUndefined()
    current = true
    expect(tokens.get('tok')).toBeUndefined() // forgotten, not revived
  })

  it('a remembered key is refused at once after it is revoked, and its replacement after rotation is accepted', async () => {
    rig = await startKeys()
    const created = (await rig.admin('POST', '/admin/keys', { name: 'app' })).body as { id: string; key: string }
    expect(await rig.auth(rig.harness.context(request(created.key)))).toBeUndefined()
    expect(await rig.auth(rig.harness.context(request(created.key)))).toBeUndefined() // remembered

    const rotated = (await rig.admin('POST', `/admin/keys/${created.id}/rotate`)).body as { key: string }
    expect((await rig.auth(rig.harness.context(request(created.key))))?.status).toBe(401)
    expect(await rig.auth(rig.harness.context(request(rotated.key)))).toBeUndefined()

    expect((await rig.admin('DELETE', `/admin/keys/${created.id}`)).status).toBe(200)
    expect((await rig.auth(rig.harness.context(request(rotated.key))))?.status).toBe(401)
  })
})
