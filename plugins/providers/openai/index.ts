/**
 * `openai()`: the OpenAI API. An OpenAI-compatible provider with OpenAI's base URL and headers that also speaks the
 * Responses API, so Responses clients (Codex, the AI SDK's default provider) are passed through unchanged.
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import { providerNameSchema, upstreamOptionsShape } from '../../../core/index.ts'
import { openaiCompatible } from '../openai-compatible/index.ts'

const optionsSchema = z.strictObject({
  name: providerNameSchema.default('openai'),
  apiKey: z.string({ error: 'apiKey is required (set OPENAI_API_KEY)' }).min(1, 'apiKey is required (set OPENAI_API_KEY)'),
  baseURL: z.url().default('https://api.openai.com/v1'),
  organization: z.string().optional(),
  project: z.string().optional(),
  models: z.array(z.string()).default(['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'o4-mini', 'text-embedding-3-small']),
  ...upstreamOptionsShape,
})

export type OpenAIOptions = z.input<typeof optionsSchema>

export const openai = definePlugin((input: OpenAIOptions) => {
  const { organization, project, ...options } = parseOptions('openai', optionsSchema, input)
  const headers: Record<string, string> = { ...options.headers }
  if (organization) headers['openai-organization'] = organization
  if (project) headers['openai-project'] = project
  return openaiCompatible({ ...options, headers, responses: true })
})
