/** `logs()` options: validated at config load, one clear line per mistake. */
import { ConfigError, parseOptions, redactOptions, z } from '../../core/index.ts'

export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** `true`/`false`, or the share of matching requests (0–1) whose content is kept. */
const share = z.union([z.boolean(), z.number().min(0).max(1)])

const statusMatch = z.union([z.enum(['error', 'ok', '4xx', '5xx']), z.number().int().min(100).max(599)])

const rule = z.strictObject({
  /** `error` (status ≥ 400 or a client abort), `ok`, `4xx`, `5xx`, or one status. */
  status: statusMatch.optional(),
  /** Glob over the requested model, the alias or `provider/model` (`openai/*`, `*mini*`). */
  model: z.string().min(1).optional(),
  /** A key's (principal's) id or name; a glob. */
  key: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  /** Whether (or for which share of requests) the matching requests keep their content. */
  content: share,
})

export const logsOptionsSchema = z.strictObject({
  /** Keep request and response content (redacted, capped): `true`, a share (0.1 = one request in ten), or `false` (default). */
  content: share.optional(),
  /** The first rule a request matches decides its content capture instead of `content`. */
  rules: z.array(rule).max(100).optional(),
  /** Most characters kept of a request's content and, separately, of its response's. */
  maxContentChars: z.number().int().min(256).max(10_000_000).optional(),
  /** Extra patterns (regular-expression source) whose matches are redacted from content. */
  redact: z.array(z.string().min(1)).max(100).optional(),
  store: z.enum(['sqlite', 'postgres']).optional(),
  sqlite: z.strictObject({ file: z.string().min(1).optional() }).optional(),
  postgres: z.strictObject({
    /** Default: `process.env.DATABASE_URL`. */
    url: z.string().min(1).optional(),
    schema: z.string().regex(SCHEMA_NAME, 'must be a lower-case SQL identifier').optional(),
    /** Table name (default `request_logs`). */
    table: z.string().regex(SCHEMA_NAME, 'must be a lower-case SQL identifier').optional(),
    poolSize: z.number().int().min(1).max(100).optional(),
  }).optional(),
  retention: z.strictObject({
    /** Entries older than this many days are deleted. Default 30. */
    maxAgeDays: z.number().positive().max(36_500).optional(),
    /** At most this many entries are kept (oldest deleted first). */
    maxRows: z.number().int().min(1).optional(),
    /** At most about this many bytes of entries are kept (oldest deleted first). */
    maxBytes: z.number().int().min(1024).optional(),
    /** How often retention runs, in ms. Default 60 000. */
    intervalMs: z.number().int().min(10).max(86_400_000).optional(),
  }).optional(),
  queueSize: z.number().int().min(1).max(1_000_000).optional(),
  batchSize: z.number().int().min(1).max(10_000).optional(),
  flushIntervalMs: z.number().int().min(1).max(60_000).optional(),
  spillFile: z.string().min(1).optional(),
})

export type LogsOptions = z.input<typeof logsOptionsSchema>
export type ContentShare = boolean | number
export type LogRule = z.output<typeof rule>

export interface RetentionPolicy {
  maxAgeDays?: number
  maxRows?: number
  maxBytes?: number
}

export interface ResolvedLogsOptions {
  content: ContentShare
  rules: LogRule[]
  maxContentChars: number
  redact: RegExp[]
  store: 'sqlite' | 'postgres'
  sqliteFile: string
  postgres?: { url: string; schema?: string; table?: string; poolSize?: number }
  retention: RetentionPolicy & { intervalMs: number }
  queueSize: number
  batchSize: number
  flushIntervalMs: number
  spillFile: string
}

export const DEFAULTS = {
  sqliteFile: '.sluice/logs.db',
  spillFile: '.sluice/logs-spill.jsonl',
  maxContentChars: 32_768,
  maxAgeDays: 30,
  retentionIntervalMs: 60_000,
  queueSize: 5_000,
  batchSize: { sqlite: 50, postgres: 200 },
  flushIntervalMs: 500,
}

export function resolveLogsOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedLogsOptions {
  const options = parseOptions('logs', logsOptionsSchema, input)
  const store = options.store ?? (options.postgres ? 'postgres' : 'sqlite')
  let postgres: ResolvedLogsOptions['postgres']
  if (store === 'postgres') {
    const url = options.postgres?.url ?? env.DATABASE_URL
    if (!url) throw new ConfigError('logs: option "postgres.url" is required when store is postgres (or set DATABASE_URL)')
    postgres = { url, schema: options.postgres?.schema, table: options.postgres?.table, poolSize: options.postgres?.poolSize }
  } else if (options.postgres) {
    throw new ConfigError('logs: option "postgres" is set but store is "sqlite"')
  }
  const redact = (options.redact ?? []).map((source, i) => {
    try {
      return new RegExp(source, 'g')
    } catch {
      throw new ConfigError(`logs: option "redact[${i}]" is not a valid regular expression`)
    }
  })
  const retention = options.retention ?? {}
  return {
    content: options.content ?? false,
    rules: options.rules ?? [],
    maxContentChars: options.maxContentChars ?? DEFAULTS.maxContentChars,
    redact,
    store,
    sqliteFile: options.sqlite?.file ?? DEFAULTS.sqliteFile,
    postgres,
    retention: {
      maxAgeDays: retention.maxAgeDays ?? DEFAULTS.maxAgeDays,
      maxRows: retention.maxRows,
      maxBytes: retention.maxBytes,
      intervalMs: retention.intervalMs ?? DEFAULTS.retentionIntervalMs,
    },
    queueSize: options.queueSize ?? DEFAULTS.queueSize,
    batchSize: options.batchSize ?? DEFAULTS.batchSize[store],
    flushIntervalMs: options.flushIntervalMs ?? DEFAULTS.flushIntervalMs,
    spillFile: options.spillFile ?? DEFAULTS.spillFile,
  }
}

/** The options as `sluice check` and the dashboard show them: no database password, no redaction patterns. */
export function displayOptions(options: ResolvedLogsOptions): Record<string, unknown> {
  return redactOptions({ ...options, redact: options.redact.length })
}
