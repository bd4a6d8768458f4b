import { parseOptions, z } from '../../core/index.ts'
import type { Clock } from '../../core/index.ts'
import { failureMatcherSchema, type FailureMatcher } from '../../core/index.ts'

const clockSchema = z.custom<Clock>(
  (value) => typeof value === 'object' && value !== null && ['now', 'random', 'sleep'].every((fn) => typeof (value as any)[fn] === 'function'),
  'expected a Clock ({ now, random, sleep })',
)

export const DEFAULT_FAIL_ON: FailureMatcher[] = [429, '5xx', 'timeout', 'connection']

const optionsSchema = z.strictObject({
  /** Open when failures / requests over the window reaches this ratio... */
  failureRatio: z.number().gt(0).max(1).default(0.5),
  /** ...and at least this many requests were seen in the window. */
  minRequests: z.number().int().min(1).default(10),
  windowMs: z.number().int().positive().default(30_000),
  /** Resolution of the rolling window. */
  buckets: z.number().int().min(1).max(600).default(10),
  /** How long a circuit stays open before admitting probes (longer when the upstream's retry-after says so). */
  cooldownMs: z.number().int().positive().default(30_000),
  /** Cap on a cooldown lengthened by a retry-after. */
  maxCooldownMs: z.number().int().positive().default(300_000),
  /** Concurrent probes while half-open. */
  halfOpenProbes: z.number().int().min(1).default(1),
  /** What counts as a failure: statuses, `'4xx'`, `'5xx'`, `'timeout'`, `'connection'`. Anything else counts as a success. */
  failOn: z.array(failureMatcherSchema).default(DEFAULT_FAIL_ON),
  /** Share open/close transitions between replicas through Redis pub/sub (counts stay local). */
  redis: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').optional(),
  /** Prefix of the Redis channel and keys. */
  redisPrefix: z.string().min(1).default('sluice:breaker'),
  /** Circuits kept in memory; the least recently created closed ones are dropped beyond this. */
  maxCircuits: z.number().int().min(1).default(10_000),
  clock: clockSchema.optional(),
})

export type BreakerOptions = z.input<typeof optionsSchema>
export type BreakerSettings = z.output<typeof optionsSchema>

export function parseBreakerOptions(input: unknown): BreakerSettings {
  return parseOptions('breaker', optionsSchema, input)
}
