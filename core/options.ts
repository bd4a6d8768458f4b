/** Plugin option validation with zod: one readable line naming the plugin and the offending key. */
import { z } from 'zod'
import { ConfigError } from './errors.ts'

export { z }

/** Parses `input` with `schema` (use `z.strictObject` so unknown keys are refused) or throws a ConfigError. */
export function parseOptions<S extends z.ZodType>(plugin: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {}, { reportInput: true })
  if (result.success) return result.data
  throw new ConfigError(`${plugin}: ${describeIssue(result.error.issues[0]!)}`)
}

export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k))
    return `unknown option ${keys.map((k) => `"${k}"`).join(', ')}`
  }
  if (issue.code === 'invalid_type' && (issue as any).input === undefined) {
    return `option "${path}" is required`
  }
  return path ? `option "${path}": ${issue.message}` : issue.message
}
