/**
 * `anthropic()`: the Anthropic Messages API (`POST /v1/messages`, x-api-key, anthropic-version). Anthropic clients
 * are passed through byte for byte; OpenAI clients are translated by the core codecs.
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import { upstreamProvider } from '../../../core/index.ts'
import { providerNameSchema, requiredApiKey, upstreamOptionsShape } from '../../../core/index.ts'
import type { ProviderRequest } from '../../../core/index.ts'

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
    route: (request) => ({ path: '/v1/messages', headers: clientHeaders(request) }),
    countTokens: {
      route: (request) => ({ path: '/v1/messages/count_tokens', headers: clientHeaders(request) }),
      read: (body) => (typeof (body as any)?.input_tokens === 'number' ? (body as any).input_tokens : undefined),
    },
  })

  /**
   * An Anthropic client's `anthropic-beta` opt-ins (added to the configured ones) and `anthropic-version` only
   * mean something when its body goes through unchanged, so only then are they passed on.
   */
  function clientHeaders(request: ProviderRequest): Record<string, string> | undefined {
    const same = request.ctx.api === 'anthropic-messages'
    const clientBetas = same ? request.ctx.request.headers.get('anthropic-beta') : null
    const version = same ? request.ctx.request.headers.get('anthropic-version') : null
    const betas = clientBetas ? [...configuredBetas, clientBetas] : configuredBetas
    const headers: Record<string, string> = {}
    if (betas.length) headers['anthropic-beta'] = betas.join(',')
    if (version && /^\d{4}-\d{2}-\d{2}$/.test(version)) headers['anthropic-version'] = version
    return Object.keys(headers).length ? headers : undefined
  }
})
