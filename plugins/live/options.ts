/** `live()` options, validated at config load. */
import { ConfigError, parseOptions, z } from '../../core/index.ts'
import { SCHEMA_NAME } from './store.ts'

const optionsSchema = z.strictObject({
  /** Keep snapshots in Postgres (default `process.env.DATABASE_URL` when `postgres: {}`); else the gateway's storage. */
  postgres: z.strictObject({
    url: z.string().min(1).optional(),
    schema: z.string().regex(SCHEMA_NAME, 'must be a lower-case SQL identifier').optional(),
  }).optional(),
  /** Announce new snapshots on Redis pub/sub; without it, Postgres LISTEN/NOTIFY when snapshots are in Postgres. */
  redis: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  channel: z.string().regex(/^[A-Za-z0-9_:.-]{1,63}$/, 'use 1-63 letters, digits, "_", ":", "." or "-"').default('sluice_live_config'),
  /** How often each replica also reads the current version itself (ms; 0: never), in case an announcement was lost. */
  checkEveryMs: z.number().int().min(0).max(3_600_000).default(5000),
})

export type LiveOptions = z.input<typeof optionsSchema>

export interface ResolvedLiveOptions {
  postgres?: { url: string; schema?: string }
  redis?: string
  channel: string
  checkEveryMs: number
}

export function resolveLiveOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedLiveOptions {
  const options = parseOptions('live', optionsSchema, input)
  let postgres: ResolvedLiveOptions['postgres']
  if (options.postgres) {
    const url = options.postgres.url ?? env.DATABASE_URL
    if (!url) throw new ConfigError('live: option "postgres.url" is required (or set DATABASE_URL)')
    postgres = { url, schema: options.postgres.schema }
  }
  return { postgres, redis: options.redis, channel: options.channel, checkEveryMs: options.checkEveryMs }
}
