import { parseOptions, z } from '../../core/index.ts'
import type { Clock } from '../../core/index.ts'
import { failureMatcherSchema, type FailureMatcher } from '../../core/index.ts'

const clockSchema = z.custom<Clock>(
  (value) => typeof value === 'object' && value !== null && ['now', 'random', 'sleep'].every((fn) => typeof (value as any)[fn] === 'function'),
  'expected a Clock ({ now, random, sleep })',
)

export const DEFAULT_RETRY_ON: FailureMatcher[] = [408, 429, 500, 502, 503, 504, 'timeout', 'connection']

const optionsSchema = z.strictObject({
  /** Total tries per target, the first included. */
  attempts: z.number().int().min(1).max(20).default(3),
  /** Backoff before the first retry (upper bound of the jitter), doubled per retry. */
  baseMs: z.number().nonnegative().default(250),
  /** Cap of the backoff. */
  maxMs: z.number().nonnegative().default(8_000),
  /** What is retried: statuses, `'4xx'`, `'5xx'`, `'timeout'`, `'connection'`. */
  retryOn: z.array(failureMatcherSchema).default(DEFAULT_RETRY_ON),
  /** The longest upstream retry-after we wait for; a longer one ends retrying this target (so a fallback can run). */
  maxRetryAfterMs: z.number().nonnegative().default(30_000),
  budget: z.strictObject({
    /** Retries across all targets of one request. */
    maxRetriesPerRequest: z.number().int().nonnegative().default(4),
  }).prefault({}),
  clock: clockSchema.optional(),
})

export type RetryOptions = z.input<typeof optionsSchema>
export type RetrySettings = z.output<typeof optionsSchema>

export function parseRetryOptions(input: unknown): RetrySettings {
  const settings = parseOptions('retry', optionsSchema, input)
  if (settings.maxMs < settings.baseMs) settings.maxMs = settings.baseMs
  return settings
}
