/**
 * `openaiCompatible()`: any server that speaks OpenAI's Chat Completions and Embeddings APIs (vLLM, Ollama,
 * LM Studio, Groq, ...). Same format in and out is passed through untouched, streams chunk by chunk.
 */
import { definePlugin } from '../../../core/plugin.ts'
import { parseOptions, z } from '../../../core/options.ts'
import { createUpstreamClient } from '../../../core/upstream.ts'
import { redactOptions } from '../../../core/redact.ts'
import { providerNameSchema, upstreamOptionsShape } from '../../../core/provider-options.ts'

export const openaiCompatibleSchema = z.strictObject({
  name: providerNameSchema,
  baseURL: z.url(),
  apiKey: z.string().optional(),
  /** Model names listed by GET /v1/models (any model can be called regardless). */
  models: z.array(z.string()).optional(),
  ...upstreamOptionsShape,
})

export type OpenAICompatibleOptions = z.input<typeof openaiCompatibleSchema>

export const openaiCompatible = definePlugin((input: OpenAICompatibleOptions) => {
  const options = parseOptions('openaiCompatible', openaiCompatibleSchema, input)
  return {
    name: options.name,
    options: redactOptions(options),
    setup(gw) {
      const client = createUpstreamClient({
        baseURL: options.baseURL,
        headers: { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
        timeouts: options.timeouts,
        connections: options.connections,
      })
      gw.registerProvider({
        name: options.name,
        formats: ['openai-chat', 'openai-embeddings'],
        models: options.models,
        call: (request) => client.request({
          path: request.format === 'openai-embeddings' ? '/embeddings' : '/chat/completions',
          body: request.body,
          format: request.format,
          stream: request.stream,
          signal: request.signal,
          timeouts: request.timeouts,
        }),
        close: () => client.close(),
      })
    },
  }
})
