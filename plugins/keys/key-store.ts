/**
 * Where keys live: the plugin's storage namespace (`key:<id>` items) plus the keys declared in the config
 * (held in memory, read-only, looked up by the SHA-256 of the whole key). Every write goes to storage, then
 * into this process's cache at once, then out to other replicas through the invalidator.
 * Writes to one id are serialised in-process (unstorage has no compare-and-set).
 */
import type { Storage } from 'unstorage'
import { GatewayError } from '../../core/index.ts'
import type { Clock } from '../../core/index.ts'
import { KeyCache, toCachedKey, type CachedKey } from './key-cache.ts'
import { formatKey, isKeyId, newKeyId, newSecret, sha256Hex } from './key-format.ts'
import { noInvalidation, type Invalidator } from './invalidation.ts'
import type { z } from '../../core/index.ts'
import type { configKeySchema, CreateKeyInput, KeyLimits, KeyRecord, UpdateKeyInput } from './schema.ts'

/** A live change to a config-declared key (null: back to none). */
export interface ConfigKeyPolicy {
  limits?: KeyLimits | null
  models?: string[] | null
  disabled?: boolean
}

export type ConfigKey = z.output<typeof configKeySchema>

export const CONFIG_ID_PREFIX = 'cfg.'

/**
 * Reading an item that exists costs more than reading one that does not (on the fs driver ~105 µs against ~37 µs),
 * so a refusal that read only the presented id would still tell whether it exists. Each refusal therefore also
 * reads the opposite kind of item: one that always exists after an unknown id, one that never does after a known
 * one. Neither is under `key:`, so no listing sees them.
 */
const DECOY_PRESENT = 'decoy:present'
const DECOY_ABSENT = 'decoy:absent'
const DECOY_RECORD = { id: 'decoy', name: 'timing decoy', hash: '0'.repeat(64), createdAt: 0, updatedAt: 0, source: 'storage' }

export interface KeyStoreOptions {
  storage: Storage
  clock: Clock
  configKeys?: ConfigKey[]
  positiveTtlMs: number
  invalidator?: Invalidator
}

export class KeyStore {
  readonly cache: KeyCache
  private readonly storage: Storage
  private readonly clock: Clock
  private readonly configById = new Map<string, KeyRecord>()
  private readonly configByHash = new Map<string, CachedKey>()
  private readonly writing = new Map<string, Promise<unknown>>()
  invalidator: Invalidator

  constructor(options: KeyStoreOptions) {
    this.storage = options.storage
    this.clock = options.clock
    this.invalidator = options.invalidator ?? noInvalidation
    this.cache = new KeyCache({
      positiveTtlMs: options.positiveTtlMs,
      now: () => this.clock.now(),
      load: (id) => this.read(id),
    })
    this.declared = options.configKeys ?? []
    this.bootedAt = this.clock.now()
    this.applyConfigPolicies(undefined)
  }

  private readonly declared: ConfigKey[]
  private readonly bootedAt: number

  /**
   * The config-declared keys, with live changes to their policies (`live()`'s `keys` section) over what the
   * config file says; undefined puts the file's back. A key switched off is no longer found (401).
   */
  applyConfigPolicies(policies: Record<string, ConfigKeyPolicy> | undefined): void {
    this.configById.clear()
    this.configByHash.clear()
    const updatedAt = this.clock.now()
    for (const declared of this.declared) {
      const policy = policies?.[declared.name]
      if (policy?.disabled) continue
      const models = policy?.models === undefined ? declared.models : policy.models ?? undefined
      const limits = policy?.limits === undefined ? declared.limits : policy.limits ?? undefined
      const record: KeyRecord = {
        id: CONFIG_ID_PREFIX + declared.name,
        name: declared.name,
        hash: sha256Hex(declared.key),
        ...(models && { models }),
        ...(limits && { limits }),
        ...(declared.budget && { budget: declared.budget }),
        ...(declared.expiresAt !== undefined && { expiresAt: declared.expiresAt }),
        ...(declared.tags && { tags: declared.tags }),
        createdAt: this.bootedAt,
        updatedAt: policy ? updatedAt : this.bootedAt,
        source: 'config',
      }
      this.configById.set(record.id, record)
      this.configByHash.set(record.hash, toCachedKey(record))
    }
  }

  /** A config-declared key by the hex SHA-256 of the whole presented token. */
  configKey(tokenHashHex: string): CachedKey | undefined {
    return this.configByHash.get(tokenHashHex)
  }

  /** Whether `key` is still the current version: the config key as last applied, or the object the cache holds (fresh) for its id. */
  isCurrent(key: CachedKey): boolean {
    return key.record.source === 'config' ? this.configByHash.get(key.record.hash) === key : this.cache.peek(key.record.id) === key
  }

  /** A stored key by id from this process's cache, when it holds a fresh copy; never reads storage. */
  cachedKey(id: string): CachedKey | undefined {
    return this.cache.peek(id)
  }

  /**
   * A stored key by id, read from storage now (and cached when it exists), followed by a read of the opposite
   * kind, so this costs the same whether the id exists or not.
   */
  async readKey(id: string): Promise<CachedKey | undefined> {
    const key = await this.cache.load(id)
    if (key) {
      await storageCall(() => this.storage.getItem(DECOY_ABSENT))
    } else if (!(await storageCall(() => this.storage.getItem(DECOY_PRESENT)))) {
      await storageCall(() => this.storage.setItem(DECOY_PRESENT, DECOY_RECORD)) // once per storage
    }
    return key
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    return this.configById.get(id) ?? (isKeyId(id) ? this.read(id) : undefined)
  }

  async list(): Promise<KeyRecord[]> {
    const ids = (await storageCall(() => this.storage.getKeys('key'))).map((k) => k.slice(k.lastIndexOf(':') + 1)).filter(isKeyId)
    const records = await Promise.all(ids.map((id) => this.read(id)))
    const stored = records.filter((r): r is KeyRecord => r !== undefined).sort((a, b) => a.createdAt - b.createdAt)
    return [...this.configById.values(), ...stored]
  }

  async create(input: CreateKeyInput): Promise<{ record: KeyRecord; key: string }> {
    const id = newKeyId()
    const secret = newSecret()
    const now = this.clock.now()
    const record: KeyRecord = { id, name: input.name, hash: sha256Hex(secret), createdAt: now, updatedAt: now, source: 'storage' }
    applyFields(record, input)
    await this.write(record)
    return { record, key: formatKey(id, secret) }
  }

  update(id: string, patch: UpdateKeyInput): Promise<KeyRecord> {
    return this.serialised(id, async () => {
      const record = await this.mutable(id)
      if (patch.name !== undefined) record.name = patch.name
      applyFields(record, patch)
      record.updatedAt = this.clock.now()
      await this.write(record)
      return record
    })
  }

  /** Revokes for good (the record stays, marked, for audit and spend). Revoking twice is not an error. */
  revoke(id: string): Promise<KeyRecord> {
    return this.serialised(id, async () => {
      const record = await this.existing(id)
      if (record.revokedAt !== undefined) return record
      record.revokedAt = record.updatedAt = this.clock.now()
      await this.write(record)
      return record
    })
  }

  /** A new secret for the same id (spend and settings stay); the old key stops working at once. */
  rotate(id: string): Promise<{ record: KeyRecord; key: string }> {
    return this.serialised(id, async () => {
      const record = await this.mutable(id)
      const secret = newSecret()
      record.hash = sha256Hex(secret)
      record.updatedAt = this.clock.now()
      await this.write(record)
      return { record, key: formatKey(id, secret) }
    })
  }

  private async read(id: string): Promise<KeyRecord | undefined> {
    const value = await storageCall(() => this.storage.getItem<KeyRecord>(`key:${id}`))
    if (!value || typeof value !== 'object' || typeof value.hash !== 'string' || value.id !== id) return undefined
    return value
  }

  private async write(record: KeyRecord): Promise<void> {
    await storageCall(() => this.storage.setItem(`key:${record.id}`, record))
    this.cache.set(record)
    await this.invalidator.publish(record.id)
  }

  private async existing(id: string): Promise<KeyRecord> {
    if (this.configById.has(id)) throw new GatewayError(409, `key "${id}" is declared in the config; change it there`, { code: 'config_key' })
    const record = isKeyId(id) ? await this.read(id) : undefined
    if (!record) throw new GatewayError(404, `no key with id "${printableId(id)}"`, { type: 'not_found_error', code: 'key_not_found' })
    return record
  }

  private async mutable(id: string): Promise<KeyRecord> {
    const record = await this.existing(id)
    if (record.revokedAt !== undefined) throw new GatewayError(409, `key "${id}" is revoked; create a new one`, { code: 'key_revoked' })
    return record
  }

  private serialised<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.writing.get(id) ?? Promise.resolve()
    const run = previous.then(task, task)
    const settled = run.catch(() => {})
    this.writing.set(id, settled)
    void settled.then(() => {
      if (this.writing.get(id) === settled) this.writing.delete(id)
    })
    return run
  }
}

/** Copies the optional fields of a create or update payload; `null` (update only) clears a field. */
function applyFields(record: KeyRecord, input: CreateKeyInput | UpdateKeyInput): void {
  for (const field of ['models', 'limits', 'budget', 'expiresAt', 'tags'] as const) {
    const value = input[field]
    if (value === undefined) continue
    if (value === null) delete record[field]
    else (record as any)[field] = value
  }
}

/** A storage outage is the gateway's problem, not the caller's: an honest 503 (the cause is logged by the core, never sent). */
async function storageCall<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await task()
  } catch (error) {
    if (GatewayError.is(error)) throw error
    throw new GatewayError(503, 'the key store is unavailable; try again shortly', { type: 'api_error', code: 'key_store_unavailable', cause: error })
  }
}

/** Ids come from URLs: show at most a short, safe excerpt in messages. */
function printableId(id: string): string {
  const clean = id.replace(/[^\w.-]/g, '?')
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean
}
