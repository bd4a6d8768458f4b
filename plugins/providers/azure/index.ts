/**
 * `azure()`: Azure OpenAI. OpenAI's wire format on per-deployment routes
 * (`/openai/deployments/{deployment}/chat/completions?api-version=...`, and `/embeddings`) with the key in the
 * `api-key` header. A model name maps to a deployment through `deployments` (default: the same name).
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import { upstreamProvider } from '../../../core/index.ts'
import { providerNameSchema, requiredApiKey, upstreamOptionsShape } from '../../../core/index.ts'

const optionsSchema = z.strictObject({
  name: providerNameSchema.default('azure'),
  /** The Azure resource: requests go to `https://{resourceName}.openai.azure.com`. */
  resourceName: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i, 'resourceName is the resource\'s subdomain (letters, digits, "-")').optional(),
  /** The endpoint origin instead of `resourceName` (a mirror, a proxy, a mock). */
  baseURL: z.url().optional(),
  apiKey: requiredApiKey('AZURE_OPENAI_API_KEY'),
  apiVersion: z.string().min(1).default('2024-10-21'),
  /** Model name (as clients address it after `azure/`) → deployment name. Unlisted models use their own name. */
  deployments: z.record(z.string(), z.string().min(1)).optional(),
  /** Names for GET /v1/models; default: the keys of `deployments`. */
  models: z.array(z.string()).optional(),
  ...upstreamOptionsShape,
}).refine((o) => (o.resourceName === undefined) !== (o.baseURL === undefined), { message: 'give exactly one of resourceName or baseURL' })

export type AzureOptions = z.input<typeof optionsSchema>

export const azure = definePlugin((input: AzureOptions) => {
  const options = parseOptions('azure', optionsSchema, input)
  const baseURL = options.baseURL ?? `https://${options.resourceName}.openai.azure.com`
  const deployments = new Map(Object.entries(options.deployments ?? {}))
  const query = { 'api-version': options.apiVersion }
  return upstreamProvider({
    name: options.name,
    options,
    baseURL,
    headers: { ...options.headers, 'api-key': options.apiKey },
    timeouts: options.timeouts,
    connections: options.connections,
    formats: ['openai-chat', 'openai-embeddings'],
    models: options.models ?? [...deployments.keys()],
    route(request) {
      const deployment = encodeURIComponent(deployments.get(request.target.model) ?? request.target.model)
      return { path: `/openai/deployments/${deployment}/${request.format === 'openai-embeddings' ? 'embeddings' : 'chat/completions'}`, query }
    },
  })
})
