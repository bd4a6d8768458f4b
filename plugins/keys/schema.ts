/**
 * The shapes of the keys plugin: plugin options, the stored key record, and the admin API payloads
 * (validated with zod strict objects, so an unknown field is a clear 400, never silently ignored).
 */
import { z } from '../../core/index.ts'

export const PERIODS = ['day', 'week', 'month', 'total'] as const
export type BudgetPeriod = (typeof PERIODS)[number]

const positiveInt = z.number().int().positive().max(1_000_000_000_000)

export const limitsSchema = z.strictObject({
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  maxConcurrent: positiveInt.optional(),
})
export type KeyLimits = z.output<typeof limitsSchema>

export const budgetSchema = z.strictObject({
  maxUSD: z.number().positive().max(1_000_000_000),
  period: z.enum(PERIODS).default('month'),
})
export type KeyBudget = z.output<typeof budgetSchema>

const nameSchema = z.string().trim().min(1, 'must not be empty').max(100)
const modelsSchema = z.array(z.string().min(1).max(200)).max(200)
const tagsSchema = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((tags) => Object.keys(tags).length <= 50, 'at most 50 tags')
/** An ISO date-time (with offset or Z) or epoch milliseconds; stored as epoch ms. */
const expirySchema = z.union([
  z.iso.datetime({ offset: true }).transform((s, ctx) => {
    const ms = Date.parse(s)
    if (Number.isFinite(ms)) return ms
    ctx.issues.push({ code: 'custom', message: 'is not a real date', input: s })
    return z.NEVER
  }),
  z.number().int().positive().max(8_640_000_000_000_000),
])

export const createKeySchema = z.strictObject({
  name: nameSchema,
  models: modelsSchema.optional(),
  limits: limitsSchema.optional(),
  budget: budgetSchema.optional(),
  expiresAt: expirySchema.optional(),
  tags: tagsSchema.optional(),
})
export type CreateKeyInput = z.output<typeof createKeySchema>

/** PATCH: every field optional; `null` clears an optional field. */
export const updateKeySchema = z.strictObject({
  name: nameSchema.optional(),
  models: modelsSchema.nullable().optional(),
  limits: limitsSchema.nullable().optional(),
  budget: budgetSchema.nullable().optional(),
  expiresAt: expirySchema.nullable().optional(),
  tags: tagsSchema.nullable().optional(),
})
export type UpdateKeyInput = z.output<typeof updateKeySchema>

/** A key declared in the config; `key` usually comes from an env var, so a missing one is named at start-up. */
export const configKeySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'use 1-64 letters, digits, "_", "." or "-"'),
  key: z.string({ error: 'is required (is its environment variable set?)' }).min(16, 'must be at least 16 characters'),
  models: modelsSchema.optional(),
  limits: limitsSchema.optional(),
  budget: budgetSchema.optional(),
  expiresAt: expirySchema.optional(),
  tags: tagsSchema.optional(),
})

export const keysOptionsSchema = z.strictObject({
  keys: z.array(configKeySchema).optional(),
  /** How long a found key stays cached (ms). Default 1000 without `redis`, 5000 with it (pub/sub invalidates at once). */
  cacheTtlMs: z.number().int().min(0).max(600_000).optional(),
  /** Redis URL for cross-replica cache invalidation over pub/sub. */
  redis: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  /** Pub/sub channel; change it only to separate gateways that share one Redis but not their keys. */
  channel: z.string().min(1).max(200).default('sluice:keys:invalidate'),
  /** Output tokens assumed for the budget reservation when a request sets no max_tokens. */
  defaultMaxTokens: z.number().int().positive().default(4096),
  /** How often a key's spend is re-read from the spend service (ms). */
  spendRefreshMs: z.number().int().min(0).max(3_600_000).default(1000),
})
export type KeysOptionsInput = z.input<typeof keysOptionsSchema>
export type KeysOptions = z.output<typeof keysOptionsSchema>

/** What storage holds for one key. Never the clear secret. */
export interface KeyRecord {
  id: string
  name: string
  /** Hex SHA-256 of the secret part (storage keys) or of the whole key (config keys). */
  hash: string
  models?: string[]
  limits?: KeyLimits
  budget?: KeyBudget
  expiresAt?: number
  tags?: Record<string, string>
  createdAt: number
  updatedAt: number
  revokedAt?: number
  source: 'storage' | 'config'
}

export type KeyStatus = 'active' | 'revoked' | 'expired'

/** What the admin API shows: the record minus its hash. */
export type KeyView = Omit<KeyRecord, 'hash' | 'expiresAt' | 'createdAt' | 'updatedAt' | 'revokedAt'> & {
  status: KeyStatus
  createdAt: string
  updatedAt: string
  expiresAt?: string
  revokedAt?: string
}

export function keyStatus(record: KeyRecord, now: number): KeyStatus {
  if (record.revokedAt !== undefined) return 'revoked'
  if (record.expiresAt !== undefined && record.expiresAt <= now) return 'expired'
  return 'active'
}

export function toView(record: KeyRecord, now: number): KeyView {
  const { hash: _hash, expiresAt, createdAt, updatedAt, revokedAt, ...rest } = record
  return {
    ...rest,
    status: keyStatus(record, now),
    createdAt: new Date(createdAt).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
    ...(expiresAt !== undefined && { expiresAt: new Date(expiresAt).toISOString() }),
    ...(revokedAt !== undefined && { revokedAt: new Date(revokedAt).toISOString() }),
  }
}
