/**
 * Option schemas every provider plugin shares: its name (the model prefix), the upstream client's options, and
 * an API key read from the environment. Provider plugins spread these into their own `z.strictObject`.
 */
import { z } from './options.ts'

export const providerNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'a provider name is letters, digits, ".", "_" or "-" (it is the model prefix)')

export const timeoutsSchema = z.strictObject({
  connect: z.number().int().positive().optional(),
  firstByte: z.number().int().positive().optional(),
  idle: z.number().int().positive().optional(),
  total: z.number().int().positive().optional(),
})

/** What `createUpstreamClient` takes besides the base URL and auth. */
export const upstreamOptionsShape = {
  /** Extra headers sent upstream. */
  headers: z.record(z.string(), z.string()).optional(),
  timeouts: timeoutsSchema.optional(),
  /** Max sockets to the upstream (unlimited by default). */
  connections: z.number().int().positive().optional(),
}

/**
 * The `apiKey` option of a provider that needs one. Accepts `string | undefined` so a config can pass
 * `process.env.X` as it is; a missing or empty key stops start-up with a line naming the variable to set.
 */
export function requiredApiKey(envName: string) {
  return z
    .custom<string | undefined>((key) => typeof key === 'string' && key.length > 0, { message: `required — set ${envName}` })
    .transform((key) => key as string)
}
