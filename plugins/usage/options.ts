/** `usage()` options: validated at config load, one clear line per mistake. */
import { ConfigError } from '../../core/index.ts'
import { parseOptions, redactOptions, z } from '../../core/index.ts'
import { SCHEMA_NAME } from './postgres-store.ts'

const usd = z.number().finite().nonnegative()

const priceSchema = z.strictObject({
  /** USD per 1M input tokens. */
  input: usd,
  /** USD per 1M output tokens. */
  output: usd,
  /** USD per 1M cached (cache-read) input tokens. */
  cachedInput: usd.optional(),
})

export const usageOptionsSchema = z.strictObject({
  store: z.enum(['sqlite', 'postgres']).optional(),
  sqlite: z.strictObject({ file: z.string().min(1).optional() }).optional(),
  postgres: z.strictObject({
    /** Default: `process.env.DATABASE_URL`. */
    url: z.string().min(1).optional(),
    schema: z.string().regex(SCHEMA_NAME, 'must be a lower-case SQL identifier').optional(),
    poolSize: z.number().int().min(1).max(100).optional(),
  }).optional(),
  /** Records held in memory before spilling to disk. */
  queueSize: z.number().int().min(1).max(1_000_000).optional(),
  batchSize: z.number().int().min(1).max(10_000).optional(),
  flushIntervalMs: z.number().int().min(1).max(60_000).optional(),
  spillFile: z.string().min(1).optional(),
  /**
   * Journal every record beside the spill file before it waits for its batch (one write per request, no fsync), so
   * a process killed outright (`kill -9`, OOM) loses no record: the next start replays it. Default true.
   */
  journal: z.boolean().optional(),
  /** Per-model prices in USD per 1M tokens; keys are `model`, `provider/model` or `provider/*`. */
  prices: z.record(z.string().min(1), priceSchema).optional(),
  /** Per-model capabilities (the most output tokens per answer, whether it takes reasoning controls); keys as for `prices`. */
  models: z.record(z.string().min(1), z.strictObject({ maxOutputTokens: z.number().int().positive().optional(), reasoning: z.boolean().optional() })).optional(),
  /** Records buffered per live-feed subscriber before it is told it lagged. */
  feedBufferSize: z.number().int().min(1).max(100_000).optional(),
})

export type UsageOptionsInput = z.input<typeof usageOptionsSchema>

export interface ResolvedUsageOptions {
  store: 'sqlite' | 'postgres'
  sqliteFile: string
  postgres?: { url: string; schema?: string; poolSize?: number }
  queueSize: number
  batchSize: number
  flushIntervalMs: number
  spillFile: string
  journal: boolean
  prices: Record<string, { input: number; output: number; cachedInput?: number }>
  models: Record<string, { maxOutputTokens?: number; reasoning?: boolean }>
  feedBufferSize: number
}

export const DEFAULTS = {
  sqliteFile: '.sluice/usage.db',
  spillFile: '.sluice/usage-spill.jsonl',
  queueSize: 10_000,
  // SQLite writes on the main thread: smaller batches keep each synchronous transaction short. Postgres is
  // round-trip bound: larger batches.
  batchSize: { sqlite: 100, postgres: 500 },
  flushIntervalMs: 250,
  feedBufferSize: 256,
}

export function resolveUsageOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedUsageOptions {
  const options = parseOptions('usage', usageOptionsSchema, input)
  const store = options.store ?? (options.postgres ? 'postgres' : 'sqlite')
  let postgres: ResolvedUsageOptions['postgres']
  if (store === 'postgres') {
    const url = options.postgres?.url ?? env.DATABASE_URL
    if (!url) throw new ConfigError('usage: option "postgres.url" is required when store is postgres (or set DATABASE_URL)')
    postgres = { url, schema: options.postgres?.schema, poolSize: options.postgres?.poolSize }
  } else if (options.postgres) {
    throw new ConfigError('usage: option "postgres" is set but store is "sqlite"')
  }
  return {
    store,
    sqliteFile: options.sqlite?.file ?? DEFAULTS.sqliteFile,
    postgres,
    queueSize: options.queueSize ?? DEFAULTS.queueSize,
    batchSize: options.batchSize ?? DEFAULTS.batchSize[store],
    flushIntervalMs: options.flushIntervalMs ?? DEFAULTS.flushIntervalMs,
    spillFile: options.spillFile ?? DEFAULTS.spillFile,
    journal: options.journal ?? true,
    prices: options.prices ?? {},
    models: options.models ?? {},
    feedBufferSize: options.feedBufferSize ?? DEFAULTS.feedBufferSize,
  }
}

/** The options as `sluice check` shows them: credentials in the database URL masked. */
export function displayOptions(options: ResolvedUsageOptions): Record<string, unknown> {
  return redactOptions({ ...options })
}
