/**
 * Where responses live: the plugin's namespace of the gateway's storage, so replicas sharing Redis (or any
 * shared driver) continue each other's conversations. Two kinds of entries:
 *
 *   response:<id>      the response object the client got, the input items the model saw, the owner, the expiry
 *   item:<owner>:<id>  one item by its id (each output item, and input items sent with an id), for
 *                      `item_reference`; scoped by owner because a client chooses its input items' ids, and must
 *                      not be able to overwrite someone else's item by reusing one
 *
 * Each entry carries `expiresAt` and is treated as missing once it passed: unstorage's `ttl` is honoured only by
 * the Redis driver (which then deletes it by itself); on other drivers an expired entry is deleted when read.
 * An entry belongs to the principal that created it (null on a gateway without auth): anyone else gets "not
 * found", never "forbidden", so ids cannot be probed.
 */
import { createHash } from 'node:crypto'
import type { Storage } from 'unstorage'
import type { Clock } from '../../core/index.ts'

export type Item = Record<string, any>

export interface StoredResponse {
  /** `ctx.principal.id` of the caller that created it; null on a gateway without an auth plugin. */
  owner: string | null
  expiresAt: number
  /** The response object exactly as the client got it (its id is the one it continues with). */
  response: Item
  /** Every input item the model saw: the conversation before it and the request's own items, references resolved. */
  input: Item[]
  /** The ids of the items indexed with it (`item:<owner>:<id>`), deleted with it. */
  itemIds: string[]
}

interface StoredItem {
  owner: string | null
  expiresAt: number
  item: Item
}

// Ids become storage keys: only characters that cannot change a key's meaning (unstorage reads `:` and `/` as
// separators). OpenAI's ids and the gateway's own (`resp_req_…`, `msg_req_…_0`) fit.
const ID = /^[A-Za-z0-9_-]{1,200}$/

export function isStorableId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id)
}

/** An owner as a key segment: principal ids are not made for keys, so they are hashed. */
function ownerScope(owner: string | null): string {
  return owner === null ? 'anyone' : createHash('sha256').update(owner).digest('hex').slice(0, 32)
}

const itemKey = (owner: string | null, id: string) => `item:${ownerScope(owner)}:${id}`

/**
 * How long a miss waits for a write that may still be on its way: a response is written by the `record` hook just
 * after the client got it, so a client that continues at once — on this process, or on another replica — can
 * ask before the write landed. Writes of this process are awaited; another replica's get these short retries.
 */
const REPLICA_RETRIES_MS = [20, 80]
/** A pending write is awaited at most this long (its record hook always settles it; this guards a bug). */
const PENDING_WAIT_MS = 2000

export class ResponseStore {
  readonly #pending = new Set<Promise<void>>()

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  /** The stored response `id` when `owner` may see it, else undefined (unknown, expired, or someone else's). */
  getResponse(id: unknown, owner: string | null): Promise<StoredResponse | undefined> {
    return isStorableId(id) ? this.#find<StoredResponse>(`response:${id}`, owner) : Promise.resolve(undefined)
  }

  async getItem(id: unknown, owner: string | null): Promise<Item | undefined> {
    if (!isStorableId(id)) return undefined
    return (await this.#find<StoredItem>(itemKey(owner, id), owner))?.item
  }

  /** Writes a response made at `madeAt` (epoch ms: its TTL runs from then, not from the write) and indexes its items by id. */
  async save(id: string, entry: Omit<StoredResponse, 'expiresAt' | 'itemIds'>, items: Item[], madeAt: number): Promise<void> {
    const expiresAt = madeAt + this.ttlSeconds * 1000
    const indexed = items.filter((item) => isStorableId(item.id))
    const stored: StoredResponse = { ...entry, expiresAt, itemIds: indexed.map((item) => item.id) }
    const ttl = { ttl: this.ttlSeconds }
    await Promise.all([
      this.storage.setItem(`response:${id}`, stored as any, ttl),
      ...indexed.map((item) => this.storage.setItem(itemKey(entry.owner, item.id), { owner: entry.owner, expiresAt, item } satisfies StoredItem as any, ttl)),
    ])
  }

  /** Deletes a response the owner may see, and the items indexed with it; false when there is none. */
  async remove(id: unknown, owner: string | null): Promise<boolean> {
    const stored = await this.getResponse(id, owner)
    if (!stored) return false
    await Promise.all([
      this.storage.removeItem(`response:${id}`),
      ...stored.itemIds.map((itemId) => this.storage.removeItem(itemKey(owner, itemId))),
    ])
    return true
  }

  /**
   * Announces a write that will follow (a response the client is getting now); call the function it returns once
   * the write finished or was given up. Until then a lookup that misses waits for it.
   */
  beginWrite(): () => void {
    let done!: () => void
    const pending = new Promise<void>((resolve) => { done = resolve })
    this.#pending.add(pending)
    return () => {
      this.#pending.delete(pending)
      done()
    }
  }

  async #find<T extends { owner: string | null; expiresAt: number }>(key: string, owner: string | null): Promise<T | undefined> {
    let entry = await this.#read<T>(key)
    if (!entry && this.#pending.size > 0) {
      await this.#pendingWrites()
      entry = await this.#read<T>(key)
    }
    for (let i = 0; !entry && i < REPLICA_RETRIES_MS.length; i++) {
      await this.clock.sleep(REPLICA_RETRIES_MS[i]!)
      entry = await this.#read<T>(key)
    }
    return entry && entry.owner === owner ? entry : undefined
  }

  async #read<T extends { expiresAt: number }>(key: string): Promise<T | undefined> {
    const entry = await this.storage.getItem<T>(key)
    if (!entry || typeof entry !== 'object') return undefined
    if (!(entry.expiresAt > this.clock.now())) {
      this.storage.removeItem(key).catch(() => {}) // drivers without ttl keep it otherwise
      return undefined
    }
    return entry
  }

  #pendingWrites(): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise((resolve) => { timer = setTimeout(resolve, PENDING_WAIT_MS) })
    return Promise.race([Promise.all(this.#pending), timeout]).finally(() => clearTimeout(timer))
  }
}
