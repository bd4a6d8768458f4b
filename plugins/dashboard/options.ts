/** `dashboard()` options. */
import { parseOptions, z } from '../../core/index.ts'

const schema = z.strictObject({
  /** Where the console is served. */
  path: z.string().regex(/^\/[A-Za-z0-9_\-/]*[A-Za-z0-9_-]$/, 'must be a path like /dashboard').optional(),
  /** At most this many targets are tracked for the targets view (least recently used dropped first). */
  maxTargets: z.number().int().min(1).max(100_000).optional(),
  /** One dashboard over every replica: records, in-flight counts and breaker states shared through Redis (fleet.ts). */
  fleet: z.strictObject({
    redis: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    /** Key prefix and channel name on Redis; replicas of one gateway share it. */
    prefix: z.string().min(1).max(200).optional(),
    /** How often each replica says it is there (ms). */
    heartbeatMs: z.number().int().min(100).max(60_000).optional(),
    /** This replica's name: default `SLUICE_REPLICA`, else the host name. */
    replica: z.string().regex(/^[\w.:@#-]{1,100}$/, 'use letters, digits and "_.:@#-"').optional(),
  }).optional(),
})

export type DashboardOptions = z.input<typeof schema>

export function resolveDashboardOptions(input: DashboardOptions | undefined) {
  const options = parseOptions('dashboard', schema, input)
  const fleet = options.fleet && {
    redis: options.fleet.redis, prefix: options.fleet.prefix ?? 'sluice:dashboard', heartbeatMs: options.fleet.heartbeatMs ?? 2000,
    ...(options.fleet.replica && { replica: options.fleet.replica }),
  }
  return { path: options.path ?? '/dashboard', maxTargets: options.maxTargets ?? 500, ...(fleet && { fleet }) }
}
