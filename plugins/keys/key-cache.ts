/**
 * In-memory cache of keys by id in front of storage: O(1) hits, one storage read per id at a time on a miss,
 * and bounded staleness so a replica converges even when an invalidation message is lost:
 *   - a found key is kept `positiveTtlMs` (default 1 s without pub/sub, 5 s with it),
 *   - an unknown id is kept `negativeTtlMs` (at most 1 s), in a size-bounded map so a flood of random ids
 *     cannot grow memory without limit.
 * `invalidate(id)` drops an entry at once and discards any storage read already in flight for it, so a stale
 * read cannot re-install a key that was just revoked.
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
  key: CachedKey | undefined
  expiresAt: number
}

const MAX_NEGATIVE_ENTRIES = 10_000

export interface KeyCacheOptions {
  positiveTtlMs: number
  negativeTtlMs: number
  now: () => number
  load: (id: string) => Promise<KeyRecord | undefined>
}

export class KeyCache {
  private readonly found = new Map<string, Entry>()
  private readonly missing = new Map<string, Entry>()
  private readonly loading = new Map<string, Promise<CachedKey | undefined>>()

  constructor(private readonly options: KeyCacheOptions) {}

  /** The key for `id`, from memory when fresh, else from storage (concurrent misses share one read). */
  get(id: string): CachedKey | undefined | Promise<CachedKey | undefined> {
    const now = this.options.now()
    const entry = this.found.get(id) ?? this.missing.get(id)
    if (entry && entry.expiresAt > now) return entry.key
    return this.loading.get(id) ?? this.load(id)
  }

  /** Installs a record this process just wrote (create, update, revoke, rotate). */
  set(record: KeyRecord): void {
    this.loading.delete(record.id)
    this.missing.delete(record.id)
    this.found.set(record.id, { key: toCachedKey(record), expiresAt: this.options.now() + this.options.positiveTtlMs })
  }

  invalidate(keyId: string): void {
    this.loading.delete(keyId)
    this.found.delete(keyId)
    this.missing.delete(keyId)
  }

  /** Drops everything: used after a pub/sub reconnect, when invalidations may have been missed. */
  clear(): void {
    this.loading.clear()
    this.found.clear()
    this.missing.clear()
  }

  get size(): number {
    return this.found.size + this.missing.size
  }

  private load(keyId: string): Promise<CachedKey | undefined> {
    const promise = this.options.load(keyId).then(
      (record) => {
        const key = record ? toCachedKey(record) : undefined
        // Only the newest read for this id may fill the cache; an invalidation in between discards it.
        if (this.loading.get(keyId) === promise) {
          this.loading.delete(keyId)
          this.remember(keyId, key)
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

  private remember(keyId: string, key: CachedKey | undefined): void {
    const now = this.options.now()
    if (key) {
      this.missing.delete(keyId)
      this.found.set(keyId, { key, expiresAt: now + this.options.positiveTtlMs })
      return
    }
    this.found.delete(keyId)
    if (this.missing.size >= MAX_NEGATIVE_ENTRIES && !this.missing.has(keyId)) {
      this.missing.delete(this.missing.keys().next().value!)
    }
    this.missing.set(keyId, { key: undefined, expiresAt: now + this.options.negativeTtlMs })
  }
}
