/**
 * An unknown key id and a wrong secret must cost the same, or the timing tells which ids exist. Checked
 * structurally, not by the clock: every refusal calls the same functions the same number of times and reads
 * one stored item that exists and one that does not, whether the id exists, is cached, or was asked for before. (The figures behind this are
 * measured by bench/key-lookup-timing.ts.)
 */
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createStorage, type Storage } from 'unstorage'
import { realClock } from '../../core/clock.ts'
import { authenticate } from '../../plugins/keys/auth.ts'
import { KeyStore } from '../../plugins/keys/key-store.ts'
import { formatKey, newKeyId, newSecret, parseKey } from '../../plugins/keys/key-format.ts'

const calls = vi.hoisted(() => ({ sha256: 0, sha256Hex: 0, digestsEqual: 0, parseKey: 0, readsFound: 0, readsMissing: 0 }))

vi.mock('../../plugins/keys/key-format.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../plugins/keys/key-format.ts')>()
  const counted = <K extends 'sha256' | 'sha256Hex' | 'digestsEqual' | 'parseKey'>(name: K) =>
    ((...args: any[]) => { calls[name]++; return (original[name] as any)(...args) }) as (typeof original)[K]
  return { ...original, sha256: counted('sha256'), sha256Hex: counted('sha256Hex'), digestsEqual: counted('digestsEqual'), parseKey: counted('parseKey') }
})

/** Storage whose reads are counted, by whether the item existed (which is what a read's cost depends on). */
function countingStorage(storage: Storage = createStorage()): Storage {
  return new Proxy(storage, {
    get(target, property, receiver) {
      if (property !== 'getItem') return Reflect.get(target, property, receiver)
      return async (...args: any[]) => {
        const value = await (target.getItem as any)(...args)
        if (value === null) calls.readsMissing++
        else calls.readsFound++
        return value
      }
    },
  })
}

/** What one authentication attempt did, and whether it was refused. */
async function workOf(store: KeyStore, token: string) {
  for (const name of Object.keys(calls) as Array<keyof typeof calls>) calls[name] = 0
  const refused = await authenticate(store, token, Date.now()).then(() => false, () => true)
  return { refused, ...calls }
}

describe('key lookup: an unknown id costs what a wrong secret costs', () => {
  let storage: Storage
  let store: KeyStore
  let id: string
  let key: string

  beforeEach(async () => {
    storage = countingStorage()
    store = new KeyStore({ storage, clock: realClock, positiveTtlMs: 60_000 })
    ;({ key } = await store.create({ name: 'owner' }))
    id = parseKey(key)!.id
    await authenticate(store, key, Date.now()) // in use by its owner: cached
  })

  it('every refusal does the same work: a read of an item that exists, a read of one that does not, two digest comparisons', async () => {
    const repeatedUnknown = formatKey(newKeyId(), newSecret())
    const repeatedWrong = formatKey(id, newSecret())
    const other = new KeyStore({ storage, clock: realClock, positiveTtlMs: 60_000 }) // a process that has not cached the key
    await workOf(store, formatKey(newKeyId(), newSecret())) // the first refusal on a fresh storage writes the decoy
    const profiles = {
      'wrong secret, key cached': await workOf(store, formatKey(id, newSecret())),
      'wrong secret, key not cached': await workOf(other, formatKey(id, newSecret())),
      'unknown id': await workOf(store, formatKey(newKeyId(), newSecret())),
      'unknown id, first time': await workOf(store, repeatedUnknown),
      'unknown id, asked again': await workOf(store, repeatedUnknown),
      'wrong secret, first time': await workOf(store, repeatedWrong),
      'wrong secret, asked again': await workOf(store, repeatedWrong),
    }
    const expected = { refused: true, sha256: 1, sha256Hex: 1, digestsEqual: 2, parseKey: 1, readsFound: 1, readsMissing: 1 }
    for (const [name, profile] of Object.entries(profiles)) expect({ name, ...profile }).toEqual({ name, ...expected })
  })

  it('a key in use is still served from memory: no storage read', async () => {
    expect(await workOf(store, key)).toEqual({ refused: false, sha256: 1, sha256Hex: 1, digestsEqual: 1, parseKey: 1, readsFound: 0, readsMissing: 0 })
  })

  it('the read on a mismatch picks up a secret rotated by another process before the cache expires', async () => {
    const elsewhere = new KeyStore({ storage, clock: realClock, positiveTtlMs: 60_000 })
    const { key: rotated } = await elsewhere.rotate(id)
    expect((await workOf(store, rotated)).refused).toBe(false)
    expect((await workOf(store, key)).refused).toBe(true)
  })

  it('remembers nothing about unknown ids: a flood of them leaves the cache as it was', async () => {
    const before = store.cache.size
    for (let i = 0; i < 1000; i++) await workOf(store, formatKey(newKeyId(), newSecret()))
    expect(store.cache.size).toBe(before)
  })
})
