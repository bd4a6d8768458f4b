/**
 * The request parameters the GenAI conventions name (`gen_ai.request.*`), read straight from the client's body in
 * its own format: a few field reads, no decoding of the messages.
 */
import type { Attributes } from '@opentelemetry/api'
import type { InboundApi } from '../../core/index.ts'
import { GEN_AI } from './semconv.ts'

const number = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)

export function requestParams(api: InboundApi, body: Record<string, any>): Attributes {
  const out: Attributes = {}
  const set = (name: string, value: unknown) => {
    const n = number(value)
    if (n !== undefined) out[name] = n
  }
  if (api === 'gemini') {
    const config = body.generationConfig ?? {}
    set(GEN_AI.requestMaxTokens, config.maxOutputTokens)
    set(GEN_AI.requestTemperature, config.temperature)
    set(GEN_AI.requestTopP, config.topP)
    set(GEN_AI.requestTopK, config.topK)
    set(GEN_AI.requestChoiceCount, config.candidateCount)
    set(GEN_AI.requestSeed, config.seed)
    return out
  }
  if (api === 'openai-embeddings') return out
  set(GEN_AI.requestMaxTokens, body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens)
  set(GEN_AI.requestTemperature, body.temperature)
  set(GEN_AI.requestTopP, body.top_p)
  set(GEN_AI.requestTopK, body.top_k)
  set(GEN_AI.requestSeed, body.seed)
  if (number(body.n) !== undefined && body.n !== 1) out[GEN_AI.requestChoiceCount] = body.n
  out[GEN_AI.requestStream] = body.stream === true
  return out
}
