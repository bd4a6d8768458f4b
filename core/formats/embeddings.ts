/**
 * Embeddings: OpenAI `/v1/embeddings` <-> Gemini `models/{model}:batchEmbedContents`.
 */
import type { TranslateInfo, WireCodec } from './types.ts'
import { badRequest, isRecord } from './canonical.ts'
import { canonicalUsageFromOpenAI, openaiChatCodec } from './openai-chat.ts'
import { geminiCodec } from './gemini.ts'

function inputs(input: unknown): string[] {
  if (typeof input === 'string') return [input]
  if (Array.isArray(input) && input.length && input.every((s) => typeof s === 'string')) return input as string[]
  if (Array.isArray(input) && input.length && input.every((s) => typeof s === 'number' || Array.isArray(s))) {
    throw badRequest('input: token arrays cannot be sent to Gemini; send text', 'input')
  }
  throw badRequest('input must be a non-empty string or array of strings', 'input')
}

/** The `models/{model}` name batchEmbedContents wants in each request. */
export function geminiModelName(model: string): string {
  return model.startsWith('models/') ? model : `models/${model}`
}

/**
 * Encodes an OpenAI embeddings request as a batchEmbedContents body. Each item names the model; the
 * client's name is used until `setUpstreamModel` (or the provider) puts in the upstream one.
 */
export function openaiEmbeddingsToGemini(body: Record<string, unknown>): Record<string, unknown> {
  const texts = inputs(body.input)
  const model = geminiModelName(String(body.model ?? ''))
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : undefined
  return {
    requests: texts.map((text) => ({
      model,
      content: { parts: [{ text }] },
      ...(dimensions !== undefined ? { outputDimensionality: dimensions } : {}),
    })),
  }
}

function base64Floats(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64')
}

/**
 * Decodes a batchEmbedContents response into OpenAI's list shape, honouring the client's
 * `encoding_format` (the openai SDK asks for base64 by default). Gemini reports no usage: it is zero here
 * and the gateway estimates it.
 */
export function geminiEmbeddingsToOpenAI(body: unknown, info: TranslateInfo): Record<string, unknown> {
  if (!isRecord(body) || !Array.isArray(body.embeddings)) throw badRequest('upstream response is not a batchEmbedContents result')
  const base64 = info.request?.encoding_format === 'base64'
  return {
    object: 'list',
    data: body.embeddings.map((embedding: any, index: number) => {
      const values: number[] = Array.isArray(embedding?.values) ? embedding.values : []
      return { object: 'embedding', index, embedding: base64 ? base64Floats(values) : values }
    }),
    model: info.model,
    usage: { prompt_tokens: 0, total_tokens: 0 },
  }
}

export const openaiEmbeddingsCodec: WireCodec = {
  format: 'openai-embeddings',
  kind: 'embeddings',
  errorBody: openaiChatCodec.errorBody,
  errorInfo: openaiChatCodec.errorInfo,
  streamErrorFrames: openaiChatCodec.streamErrorFrames,
  readUsage: canonicalUsageFromOpenAI,
  bodyUsage: (body) => canonicalUsageFromOpenAI((body as any)?.usage),
  streamUsage: () => undefined,
  streamDone: () => false,
  setModel: (body, model) => { body.model = model },
  responseFrom: { 'gemini-embeddings': geminiEmbeddingsToOpenAI },
}

export const geminiEmbeddingsCodec: WireCodec = {
  format: 'gemini-embeddings',
  kind: 'embeddings',
  errorBody: geminiCodec.errorBody,
  errorInfo: geminiCodec.errorInfo,
  streamErrorFrames: geminiCodec.streamErrorFrames,
  readUsage: () => undefined, // batchEmbedContents reports no usage
  bodyUsage: () => undefined,
  streamUsage: () => undefined,
  streamDone: () => false,
  setModel(body, model) {
    if (Array.isArray(body.requests)) for (const item of body.requests) if (isRecord(item)) item.model = geminiModelName(model)
  },
  requestFrom: { 'openai-embeddings': openaiEmbeddingsToGemini },
}
