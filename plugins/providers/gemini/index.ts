/**
 * `gemini()`: the Gemini API (Google AI Studio). `generateContent`, `streamGenerateContent?alt=sse` and
 * `batchEmbedContents`, with the key in the `x-goog-api-key` header — never in the URL, where it would end up
 * in access logs. The model goes in the path: generateContent bodies carry none.
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import { upstreamProvider } from '../../../core/index.ts'
import type { ProviderRequest } from '../../../core/index.ts'
import { providerNameSchema, requiredApiKey, upstreamOptionsShape } from '../../../core/index.ts'

const optionsSchema = z.strictObject({
  name: providerNameSchema.default('gemini'),
  apiKey: requiredApiKey('GEMINI_API_KEY'),
  /** The API origin, without the version. */
  baseURL: z.url().default('https://generativelanguage.googleapis.com'),
  apiVersion: z.string().regex(/^v[0-9a-z]+$/, 'apiVersion looks like "v1beta" or "v1"').default('v1beta'),
  models: z.array(z.string()).default(['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash', 'gemini-embedding-001', 'text-embedding-004']),
  ...upstreamOptionsShape,
})

export type GeminiOptions = z.input<typeof optionsSchema>

/** `gemini-2.5-flash` or `models/gemini-2.5-flash` → the path segment `gemini-2.5-flash`. */
function modelSegment(model: string): string {
  return encodeURIComponent(model.startsWith('models/') ? model.slice('models/'.length) : model)
}

function methodFor(request: ProviderRequest): string {
  if (request.format === 'gemini-embeddings') return 'batchEmbedContents'
  return request.stream ? 'streamGenerateContent' : 'generateContent'
}

export const gemini = definePlugin((input: GeminiOptions) => {
  const options = parseOptions('gemini', optionsSchema, input)
  return upstreamProvider({
    name: options.name,
    options,
    baseURL: options.baseURL,
    headers: { ...options.headers, 'x-goog-api-key': options.apiKey },
    timeouts: options.timeouts,
    connections: options.connections,
    formats: ['gemini', 'gemini-embeddings'],
    models: options.models,
    route(request) {
      const stream = request.stream && request.format === 'gemini'
      return {
        path: `/${options.apiVersion}/models/${modelSegment(request.target.model)}:${methodFor(request)}`,
        query: stream ? { alt: 'sse' } : undefined,
        stream,
      }
    },
    countTokens: {
      route: (request) => ({ path: `/${options.apiVersion}/models/${modelSegment(request.target.model)}:countTokens` }),
      read: (body) => (typeof (body as any)?.totalTokens === 'number' ? (body as any).totalTokens : undefined),
    },
  })
})
