/** `responses()` options, validated at load. */
import { parseOptions, z } from '../../core/index.ts'

const THIRTY_DAYS = 30 * 24 * 60 * 60

const optionsSchema = z.strictObject({
  /** How long a stored response (and its items) can be read or continued, in seconds. OpenAI keeps them 30 days. */
  ttlSeconds: z.number().int().positive().default(THIRTY_DAYS),
})

export type ResponsesOptions = z.input<typeof optionsSchema>
export type ResponsesSettings = z.output<typeof optionsSchema>

export function parseResponsesOptions(input: unknown): ResponsesSettings {
  return parseOptions('responses', optionsSchema, input)
}
