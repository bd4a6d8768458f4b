/** `dashboard()` options. */
import { parseOptions, z } from '../../core/index.ts'

const schema = z.strictObject({
  /** Where the console is served. */
  path: z.string().regex(/^\/[A-Za-z0-9_\-/]*[A-Za-z0-9_-]$/, 'must be a path like /dashboard').optional(),
  /** At most this many targets are tracked for the targets view (least recently used dropped first). */
  maxTargets: z.number().int().min(1).max(100_000).optional(),
})

export type DashboardOptions = z.input<typeof schema>

export function resolveDashboardOptions(input: DashboardOptions | undefined) {
  const options = parseOptions('dashboard', schema, input)
  return { path: options.path ?? '/dashboard', maxTargets: options.maxTargets ?? 500 }
}
