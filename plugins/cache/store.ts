/**
 * The cache's entries on unstorage: memory (a bounded LRU of this plugin's own), files, or Redis. An entry is the
 * answer in the neutral view, so any client format, streamed or not, can be served from it, plus when it was
 * stored and until when it may be served. Expiry is checked on read whatever the driver (fs and memory know no
 * TTL); Redis is also told, so it drops entries by itself.
 *
 * The store never fails a request: a read that fails is a miss, a write that fails is logged. With Redis the
 * client fails fast instead of queuing (no offline queue, short timeouts) and reconnects on its own; a lost
 * connection is logged once, and once more when it is back.
 */
import { createStorage, type Storage } from 'unstorage'
import fsDriver from 'unstorage/drivers/fs'
import redisDriver from 'unstorage/drivers/redis'
import type { ConsolaInstance } from 'consola'
import type { Redis } from 'ioredis'
import type { Clock, ResponseView, Target } from '../../core/index.ts'
import { memoryLru, type MemoryLruStats } from './memory-driver.ts'
import type { CacheSettings } from './options.ts'

const ENTRY_VERSION = 1

export interface CacheEntry {
  v: typeof ENTRY_VERSION
  /** Epoch ms. */
  storedAt: number
  /** Epoch ms after which it is not served. */
  expiresAt: number
  /** The target that answered (provider and upstream model): priced as if it had answered again. */
  target: { provider: string; model: string }
  output: ResponseView
}

export interface StoreEvents {
  onEvict?: () => void
}

export class CacheStore {
  readonly kind: 'memory' | 'fs' | 'redis'
  readonly storage: Storage
  readonly #memory: (() => MemoryLruStats) | undefined
  readonly #redis: (() => Redis) | undefined
  readonly #maxEntryBytes: number
  readonly #clock: Clock
  readonly #logger: ConsolaInstance
  #healthy = true

  constructor(settings: CacheSettings, context: { clock: Clock; logger: ConsolaInstance }, events: StoreEvents = {}) {
    this.#maxEntryBytes = settings.maxEntryBytes
    this.#clock = context.clock
    this.#logger = context.logger
    const store = settings.store
    if (store === 'memory') {
      const lru = memoryLru({ maxEntries: settings.maxEntries, maxBytes: settings.maxBytes, onEvict: events.onEvict })
      this.kind = 'memory'
      this.storage = createStorage({ driver: lru.driver })
      this.#memory = lru.stats
    } else if ('fs' in store) {
      this.kind = 'fs'
      this.storage = createStorage({ driver: fsDriver({ base: store.fs }) })
    } else {
      this.kind = 'redis'
      // ioredis options pass through the driver. Nothing connects until `connect()` (gw.onStart).
      const driver = redisDriver({
        url: store.redis,
        base: store.prefix ?? 'sluice:cache',
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: store.connectTimeoutMs ?? 1000,
        commandTimeout: store.commandTimeoutMs ?? 500,
        retryStrategy: (times: number) => Math.min(times * 100, 1000),
      } as Parameters<typeof redisDriver>[0])
      this.storage = createStorage({ driver })
      this.#redis = () => driver.getInstance!() as Redis
    }
  }

  /** Opens the Redis connection (the other stores need none). A failure is logged; ioredis keeps retrying. */
  async connect(): Promise<void> {
    if (!this.#redis) return
    const client = this.#redis()
    client.on('error', (error: Error) => this.#down(error))
    client.on('ready', () => this.#up())
    await client.connect().catch((error: Error) => this.#down(error))
  }

  /** The entry under `key` while it may still be served; undefined when there is none, it expired, or the store failed. */
  async get(key: string): Promise<CacheEntry | undefined> {
    let entry: unknown
    try {
      entry = await this.storage.getItem(key)
      this.#up()
    } catch (error) {
      this.#down(error as Error)
      return undefined
    }
    if (!isEntry(entry)) return undefined
    if (entry.expiresAt <= this.#clock.now()) {
      await this.remove(key)
      return undefined
    }
    return entry
  }

  /** Stores an entry for `ttlSeconds`; false (and nothing written) when it is larger than `maxEntryBytes` or the write failed. */
  async set(key: string, output: ResponseView, target: Target, ttlSeconds: number): Promise<boolean> {
    const storedAt = this.#clock.now()
    const entry: CacheEntry = { v: ENTRY_VERSION, storedAt, expiresAt: storedAt + ttlSeconds * 1000, target: { provider: target.provider, model: target.model }, output }
    const text = JSON.stringify(entry)
    if (Buffer.byteLength(text) > this.#maxEntryBytes) return false
    try {
      await this.storage.setItem(key, text, { ttl: ttlSeconds })
      this.#up()
      return true
    } catch (error) {
      this.#down(error as Error)
      return false
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await this.storage.removeItem(key)
    } catch (error) {
      this.#down(error as Error)
    }
  }

  /** Removes every entry whose time is up (fs: files are not expired by anything else). Returns how many. */
  async sweep(): Promise<number> {
    let removed = 0
    const now = this.#clock.now()
    for (const key of await this.storage.getKeys()) {
      const entry = await this.storage.getItem(key).catch(() => undefined)
      if (isEntry(entry) && entry.expiresAt > now) continue
      await this.remove(key)
      removed++
    }
    return removed
  }

  async clear(): Promise<void> {
    await this.storage.clear()
  }

  /** Entries and bytes held (memory store only). */
  size(): MemoryLruStats | undefined {
    return this.#memory?.()
  }

  async close(): Promise<void> {
    await this.storage.dispose()
  }

  #down(error: Error) {
    if (!this.#healthy) return
    this.#healthy = false
    this.#logger.warn(`cache store (${this.kind}) unavailable, serving without it: ${error?.message ?? error}`)
  }

  #up() {
    if (this.#healthy) return
    this.#healthy = true
    this.#logger.info(`cache store (${this.kind}) is back`)
  }
}

function isEntry(value: unknown): value is CacheEntry {
  const entry = value as CacheEntry
  return typeof entry === 'object' && entry !== null && entry.v === ENTRY_VERSION && typeof entry.expiresAt === 'number'
    && typeof entry.output === 'object' && entry.output !== null && Array.isArray(entry.output.content)
}
