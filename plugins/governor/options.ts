/** The governor's options, validated at config load: an unknown key or a bad value stops start-up with one line. */
import { parseOptions, z } from '../../core/index.ts'
import type { Clock } from '../../core/index.ts'

const rate = z.number().positive().finite()
const count = z.number().int().positive()

const limitFields = {
  rps: rate.optional(),
  rpm: rate.optional(),
  tpm: rate.optional(),
  burst: count.optional(),
  tokenBurst: count.optional(),
  maxConcurrent: count.optional(),
}

const hasLimit = (spec: { rps?: number; rpm?: number; tpm?: number; maxConcurrent?: number }) =>
  spec.rps !== undefined || spec.rpm !== undefined || spec.tpm !== undefined || spec.maxConcurrent !== undefined

const ruleSchema = z
  .strictObject({ scope: z.enum(['key', 'model', 'target', 'key-model', 'global']), ...limitFields })
  .refine(hasLimit, { error: 'a rule needs at least one of rps, rpm, tpm or maxConcurrent' })

const redisSchema = z.strictObject({
  redis: z.string().regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' }),
  /** Key prefix; give each gateway fleet its own when they share one Redis. */
  prefix: z.string().min(1).optional(),
  /** How long a concurrency slot outlives a replica that crashed while holding it (ms). */
  leaseMs: count.optional(),
  connectTimeoutMs: count.optional(),
  commandTimeoutMs: count.optional(),
})

export const governorOptionsSchema = z.strictObject({
  store: z
    .union([z.literal('memory'), redisSchema], { error: 'expected "memory" or { redis: "redis://..." }' })
    .default('memory'),
  /** What happens when the store (Redis) cannot be reached: refuse with 503 (closed) or admit unlimited (open). */
  failMode: z.enum(['open', 'closed']).default('closed'),
  rules: z.array(ruleSchema).default([]),
  /** Limits every key gets unless its own metadata (`principal.limits`) says otherwise. */
  perKey: z.strictObject(limitFields).optional(),
  /** Output tokens reserved for a request that sets no `max_tokens`. */
  defaultMaxTokens: count.default(1024),
  /** Memory store: most buckets held at once. */
  maxKeys: count.default(1_000_000),
  /** Injected time (tests). With Redis it also replaces Redis TIME. */
  clock: z
    .custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function', { error: 'expected a Clock' })
    .optional(),
})

export type GovernorOptions = z.input<typeof governorOptionsSchema>
export type ResolvedGovernorOptions = z.output<typeof governorOptionsSchema>

export function resolveGovernorOptions(input: unknown): ResolvedGovernorOptions {
  return parseOptions('governor', governorOptionsSchema, input)
}

/** The options as shown by `sluice check` and the dashboard: a Redis password never appears. */
export function describeOptions(options: ResolvedGovernorOptions): Record<string, unknown> {
  const { clock: _clock, ...rest } = options
  if (rest.store === 'memory') return rest
  let redis = 'redis://[unparseable]'
  try {
    const url = new URL(rest.store.redis)
    if (url.password) url.password = 'redacted'
    redis = url.toString()
  } catch {}
  return { ...rest, store: { ...rest.store, redis } }
}
