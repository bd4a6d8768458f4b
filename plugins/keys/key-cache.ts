/**
 * In-memory cache of keys by id in front of storage: O(1) hits for the keys in use, one storage read per id at a
 * time, and bounded staleness so a replica converges even when an invalidation message is lost: a key read from
 * storage is kept `positiveTtlMs` (default 1 s without pub/sub, 5 s with it).
 *
 * Only keys that exist are kept. An unknown id is not remembered: the auth path reads storage on every refusal,
 * whether the id is unknown or the secret wrong, so that both cost the same (see auth.ts); remembering unknown
 * ids would make a repeated unknown id cheaper than a wrong secret again. `invalidate(id)` drops an entry at once
 * and discards any storage read already in flight for it, so a stale read cannot re-install a key just revoked.
 */
import { DUMMY_DIGEST } from './key-format.ts'
import { compileModelMatcher, type ModelMatcher } from './model-match.ts'
import type { KeyRecord } from './schema.ts'

/** A key as the auth path uses it: the record plus its digest as bytes and its compiled model matcher. */
export interface CachedKey {
  record: KeyRecord
  digest: Buffer
  allows: ModelMatcher
}

export function toCachedKey(record: KeyRecord): CachedKey {
  const digest = Buffer.from(record.hash, 'hex')
  return { record, digest: digest.length === 32 ? digest : DUMMY_DIGEST, allows: compileModelMatcher(record.models) }
}

interface Entry {
  key: CachedKey
  expiresAt: number
}

export interface KeyCacheOptions {
  positiveTtlMs: number
  now: () => number
  load: (id: string) => Promise<KeyRecord | undefined>
}

export class KeyCache {
  private readonly found = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<CachedKey | undefined>>()

  constructor(private readonly options: KeyCacheOptions) {}

  /** The key for `id` while its cached copy is fresh; never reads storage. */
  peek(id: string): CachedKey | undefined {
    const entry = this.found.get(id)
    return entry && entry.expiresAt > this.options.now() ? entry.key : undefined
  }

  /** Reads `id` from storage now (concurrent reads of one id share one read); keeps the key when it exists. */
  load(id: string): Promise<CachedKey | undefined> {
    return this.loading.get(id) ?? this.read(id)
  }

  /** Installs a record this process just wrote (create, update, revoke, rotate). */
  set(record: KeyRecord): void {
    this.loading.delete(record.id)
    this.found.set(record.id, { key: toCachedKey(record), expiresAt: this.options.now() + this.options.positiveTtlMs })
  }

  invalidate(keyId: string): void {
    this.loading.delete(keyId)
    this.found.delete(keyId)
  }

  /** Drops everything: used after a pub/sub reconnect, when invalidations may have been missed. */
  clear(): void {
    this.loading.clear()
    this.found.clear()
  }

  get size(): number {
    return this.found.size
  }

  private read(keyId: string): Promise<CachedKey | undefined> {
    const promise = this.options.load(keyId).then(
      (record) => {
        const key = record ? toCachedKey(record) : undefined
        // Only the newest read for this id may fill the cache; an invalidation in between discards it.
        if (this.loading.get(keyId) === promise) {
          this.loading.delete(keyId)
          if (key) this.found.set(keyId, { key, expiresAt: this.options.now() + this.options.positiveTtlMs })
          else this.found.delete(keyId)
        }
        return key
      },
      (error) => {
        if (this.loading.get(keyId) === promise) this.loading.delete(keyId)
        throw error
      },
    )
    this.loading.set(keyId, promise)
    return promise
  }
}
