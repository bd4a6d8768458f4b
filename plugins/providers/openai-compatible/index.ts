/**
 * `openaiCompatible()`: any server that speaks OpenAI's Chat Completions and Embeddings APIs (vLLM, Ollama,
 * LM Studio, Groq, ...), and with `responses: true` the Responses API too (OpenAI itself). Same format in and out
 * is passed through untouched, streams chunk by chunk.
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import { upstreamProvider } from '../../../core/index.ts'
import { providerNameSchema, upstreamOptionsShape } from '../../../core/index.ts'
import type { WireFormat } from '../../../core/index.ts'

export const openaiCompatibleSchema = z.strictObject({
  name: providerNameSchema,
  baseURL: z.url(),
  apiKey: z.string().optional(),
  /** Model names listed by GET /v1/models (any model can be called regardless). */
  models: z.array(z.string()).optional(),
  /** The server also speaks the Responses API (`POST /responses`): Responses clients are passed through to it. */
  responses: z.boolean().default(false),
  ...upstreamOptionsShape,
})

const PATHS: Partial<Record<WireFormat, string>> = {
  'openai-chat': '/chat/completions',
  'openai-responses': '/responses',
  'openai-embeddings': '/embeddings',
}

export type OpenAICompatibleOptions = z.input<typeof openaiCompatibleSchema>

export const openaiCompatible = definePlugin((input: OpenAICompatibleOptions) => {
  const options = parseOptions('openaiCompatible', openaiCompatibleSchema, input)
  return upstreamProvider({
    name: options.name,
    options,
    baseURL: options.baseURL,
    headers: { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
    timeouts: options.timeouts,
    connections: options.connections,
    formats: options.responses ? ['openai-chat', 'openai-responses', 'openai-embeddings'] : ['openai-chat', 'openai-embeddings'],
    models: options.models,
    route: (request) => ({ path: PATHS[request.format] ?? '/chat/completions' }),
  })
})
