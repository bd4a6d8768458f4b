/**
 * `anthropic()`: the Anthropic Messages API (`POST /v1/messages`, x-api-key, anthropic-version). Anthropic clients
 * are passed through byte for byte; OpenAI clients are translated by the core codecs.
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import { upstreamProvider } from '../../../core/index.ts'
import { providerNameSchema, requiredApiKey, upstreamOptionsShape } from '../../../core/index.ts'

const optionsSchema = z.strictObject({
  name: providerNameSchema.default('anthropic'),
  apiKey: requiredApiKey('ANTHROPIC_API_KEY'),
  /** The API origin, without `/v1` (as in Anthropic's own SDK). */
  baseURL: z.url().default('https://api.anthropic.com'),
  /** Sent as `anthropic-version`. */
  version: z.string().min(1).default('2023-06-01'),
  /** Beta features sent as `anthropic-beta` on every request (a client's own `anthropic-beta` is added to them). */
  betas: z.array(z.string().min(1)).optional(),
  models: z.array(z.string()).default(['claude-opus-4-1', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-3-5-haiku-latest']),
  ...upstreamOptionsShape,
})

export type AnthropicOptions = z.input<typeof optionsSchema>

export const anthropic = definePlugin((input: AnthropicOptions) => {
  const options = parseOptions('anthropic', optionsSchema, input)
  const configuredBetas = options.betas ?? []
  return upstreamProvider({
    name: options.name,
    options,
    baseURL: options.baseURL,
    headers: { ...options.headers, 'x-api-key': options.apiKey, 'anthropic-version': options.version },
    timeouts: options.timeouts,
    connections: options.connections,
    formats: ['anthropic-messages'],
    models: options.models,
    route(request) {
      // An Anthropic client's beta opt-ins only mean something when its body goes through unchanged.
      const clientBetas = request.ctx.api === 'anthropic-messages' ? request.ctx.request.headers.get('anthropic-beta') : null
      const betas = clientBetas ? [...configuredBetas, clientBetas] : configuredBetas
      return { path: '/v1/messages', headers: betas.length ? { 'anthropic-beta': betas.join(',') } : undefined }
    },
  })
})
