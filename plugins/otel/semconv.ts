/**
 * Names from the OpenTelemetry semantic conventions. The stable ones come from `@opentelemetry/semantic-conventions`;
 * the GenAI ones are spelled here because that package (1.45) marks its `gen_ai.*` constants deprecated (the GenAI
 * conventions moved to their own repository) while the names themselves are current.
 */
import type { InboundApi } from '../../core/index.ts'

export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions'

export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestTopK: 'gen_ai.request.top_k',
  requestChoiceCount: 'gen_ai.request.choice.count',
  requestSeed: 'gen_ai.request.seed',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
} as const

/** Sluice's own attributes, beside the conventional ones. */
export const SLUICE = {
  requestId: 'sluice.request_id',
  provider: 'sluice.provider',
  target: 'sluice.target',
  attempt: 'sluice.attempt',
  attempts: 'sluice.attempts',
  skippedTargets: 'sluice.skipped_targets',
  cached: 'sluice.cached',
  costUsd: 'sluice.cost_usd',
  principal: 'sluice.principal.id',
  outcome: 'sluice.outcome',
  estimatedUsage: 'sluice.usage.estimated',
} as const

/** `gen_ai.operation.name` of each API a client can call. */
export function operationOf(api: InboundApi): string {
  if (api === 'openai-embeddings') return 'embeddings'
  if (api === 'gemini') return 'generate_content'
  return 'chat'
}

/** Well-known hosts → `gen_ai.provider.name` (the conventions' values). */
const HOSTS: Array<[RegExp, string]> = [
  [/(^|\.)api\.openai\.com$/, 'openai'],
  [/\.openai\.azure\.com$/, 'azure.ai.openai'],
  [/(^|\.)api\.anthropic\.com$/, 'anthropic'],
  [/^generativelanguage\.googleapis\.com$/, 'gcp.gemini'],
  [/aiplatform\.googleapis\.com$/, 'gcp.vertex_ai'],
  [/^bedrock-runtime\./, 'aws.bedrock'],
  [/(^|\.)api\.groq\.com$/, 'groq'],
  [/(^|\.)api\.mistral\.ai$/, 'mistral_ai'],
  [/(^|\.)api\.deepseek\.com$/, 'deepseek'],
  [/(^|\.)api\.x\.ai$/, 'x_ai'],
  [/(^|\.)api\.perplexity\.ai$/, 'perplexity'],
  [/(^|\.)api\.cohere\.(com|ai)$/, 'cohere'],
]

/** First-party provider plugin names → `gen_ai.provider.name`, for a provider on a host not listed above. */
const NAMES: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  azure: 'azure.ai.openai',
  bedrock: 'aws.bedrock',
  vertex: 'gcp.vertex_ai',
  groq: 'groq',
  mistral: 'mistral_ai',
  deepseek: 'deepseek',
  xai: 'x_ai',
}

/**
 * The conventions' name for a provider, by its host or its plugin name; anything else (a local vLLM, an
 * Ollama) keeps its Sluice name, which is the best knowledge the gateway has.
 */
export function providerNameOf(name: string, host: string | undefined): string {
  if (host) for (const [pattern, value] of HOSTS) if (pattern.test(host)) return value
  return NAMES[name] ?? name
}
