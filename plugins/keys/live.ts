/**
 * The keys plugin's section of live config (`live()`): `{ "<config key name>": { limits, models, disabled } }`
 * over what the config file declares (`null` drops a limit or allow-list the file sets). Keys created through
 * the admin API are already changed at runtime (`PATCH /admin/keys/:id`) and are not part of the overlay.
 */
import { z } from '../../core/index.ts'
import type { ConfigKey, ConfigKeyPolicy, KeyStore } from './key-store.ts'
import { limitsSchema } from './schema.ts'

/** The shape `live()` takes for a section (structural: a plugin imports no other plugin's files). */
interface LiveSection<T> {
  parse(value: unknown): T
  apply(parsed: T | undefined): void
  base?(): unknown
}

const policySchema = z.strictObject({
  limits: limitsSchema.nullable().optional(),
  models: z.array(z.string().min(1).max(200)).max(200).nullable().optional(),
  disabled: z.boolean().optional(),
})
const sectionSchema = z.record(z.string(), policySchema)

export function liveKeysSection(store: KeyStore, declared: ConfigKey[]): LiveSection<Record<string, ConfigKeyPolicy>> {
  const names = new Set(declared.map((key) => key.name))
  return {
    parse(value) {
      const result = sectionSchema.safeParse(value)
      if (!result.success) {
        const issue = result.error.issues[0]!
        throw new Error(`${issue.path.map(String).join('.') || 'keys'}: ${issue.message}`)
      }
      for (const name of Object.keys(result.data)) {
        if (!names.has(name)) throw new Error(`no key named "${name}" is declared in the config file (keys made through /admin/keys are changed there)`)
      }
      return result.data
    },
    apply(parsed) {
      store.applyConfigPolicies(parsed)
    },
    base: () => Object.fromEntries(declared.map(({ name, limits, models }) => [name, { ...(limits && { limits }), ...(models && { models }) }])),
  }
}
