/** `cache()` options, validated at config load: an unknown key or a bad value stops start-up naming it. */
import { parseOptions, z } from '../../core/index.ts'

const seconds = z.number().int().nonnegative()
const positive = z.number().int().positive()

const fsSchema = z.strictObject({
  /** Directory the entries are written to, one file each. */
  fs: z.string().min(1),
})

const redisSchema = z.strictObject({
  redis: z.string().regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' }),
  /** Key prefix; give each gateway fleet its own when they share one Redis. */
  prefix: z.string().min(1).optional(),
  connectTimeoutMs: positive.optional(),
  /** A Redis command slower than this counts as a miss (read) or is given up (write). */
  commandTimeoutMs: positive.optional(),
})

export const cacheOptionsSchema = z.strictObject({
  /** Where entries live: this process's memory (a bounded LRU), files, or Redis (shared by every replica). */
  store: z
    .union([z.literal('memory'), fsSchema, redisSchema], { error: 'expected "memory", { fs: "<dir>" } or { redis: "redis://..." }' })
    .default('memory'),
  /** Seconds an entry is served for. */
  ttl: seconds.default(3600),
  /** The most a request may ask for with `x-sluice-cache-ttl`, in seconds. */
  maxTtl: seconds.default(86_400),
  /** Per model name as the client asks for it (a router alias or `provider/model`): its own TTL; 0 turns caching off for it. */
  routes: z.record(z.string().min(1), z.strictObject({ ttl: seconds })).default({}),
  /** `global`: one answer for everyone who asks the same; `key`: entries are kept apart per caller (principal). */
  scope: z.enum(['global', 'key']).default('global'),
  /** Also store answers to requests that name a temperature above 0 (they are bypassed otherwise). */
  cacheNonDeterministic: z.boolean().default(false),
  /** Entries larger than this (serialised JSON, bytes) are not stored; a stream is dropped from collection past it. */
  maxEntryBytes: positive.default(1024 * 1024),
  /** Memory store: most entries held. */
  maxEntries: positive.default(10_000),
  /** Memory store: most bytes held (serialised JSON). */
  maxBytes: positive.default(64 * 1024 * 1024),
  /** fs store: how often expired files are swept, in seconds (0: only when read). */
  sweepSeconds: seconds.default(600),
})

export type CacheOptions = z.input<typeof cacheOptionsSchema>
export type CacheSettings = z.output<typeof cacheOptionsSchema>
export type StoreSetting = CacheSettings['store']

export function parseCacheOptions(input: unknown): CacheSettings {
  return parseOptions('cache', cacheOptionsSchema, input)
}

/** The options as `sluice check` and the dashboard show them: a Redis password never appears. */
export function describeCacheOptions(settings: CacheSettings): Record<string, unknown> {
  if (typeof settings.store === 'string' || !('redis' in settings.store)) return { ...settings }
  let redis = 'redis://[unparseable]'
  try {
    const url = new URL(settings.store.redis)
    if (url.password) url.password = 'redacted'
    redis = url.toString()
  } catch {}
  return { ...settings, store: { ...settings.store, redis } }
}
