/**
 * The `apiKey` option of a provider that needs one. Accepts `string | undefined` so a config can pass
 * `process.env.X` as it is; a missing or empty key stops start-up with a line naming the variable to set.
 */
import { z } from '../../../core/options.ts'

export function requiredApiKey(envName: string) {
  return z
    .custom<string | undefined>((key) => typeof key === 'string' && key.length > 0, { message: `required — set ${envName}` })
    .transform((key) => key as string)
}
