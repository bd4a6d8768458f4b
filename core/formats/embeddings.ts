/**
 * Embeddings: OpenAI `/v1/embeddings` <-> Gemini `models/{model}:batchEmbedContents`, both ways, and Gemini's
 * single `models/{model}:embedContent` as a format of its own that translates to either.
 */
import type { TranslateInfo, WireCodec } from './types.ts'
import { badRequest, isRecord } from './canonical.ts'
import { canonicalUsageFromOpenAI, openaiChatCodec } from './openai-chat.ts'
import { geminiCodec, geminiField } from './gemini.ts'

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

// ---------------------------------------------------------------------------------------------------------
// Gemini embeddings clients -> OpenAI-compatible providers
// ---------------------------------------------------------------------------------------------------------

/** The text of one Content to embed. Other parts (images, for multimodal embedding models) cannot be sent on. */
function contentText(content: unknown, where: string): string {
  if (!isRecord(content) || !Array.isArray(content.parts)) throw badRequest(`${where}.content.parts must be an array`, 'content')
  return content.parts.map((part: unknown, j: number) => {
    if (isRecord(part) && typeof part.text === 'string') return part.text
    throw badRequest(`${where}.content.parts[${j}]: only text can be embedded by this provider`, 'content')
  }).join('\n')
}

/** OpenAI takes one `dimensions` for the whole batch. */
function batchDimensions(requests: Record<string, any>[]): number | undefined {
  const sizes = new Set(requests.map((request) => geminiField(request, 'outputDimensionality')))
  if (sizes.size > 1) throw badRequest('outputDimensionality must be the same for every request to translate to this provider', 'outputDimensionality')
  const [size] = sizes
  return typeof size === 'number' ? size : undefined
}

function batchRequests(body: Record<string, unknown>): Record<string, any>[] {
  if (!Array.isArray(body.requests) || !body.requests.length) throw badRequest('requests must be a non-empty array', 'requests')
  return body.requests.map((request, i) => {
    if (!isRecord(request)) throw badRequest(`requests[${i}] must be an object`, 'requests')
    return request
  })
}

/**
 * Encodes a batchEmbedContents body as an OpenAI embeddings request: one input per request. taskType and
 * title have no OpenAI equivalent and are dropped; the model is the client's until the upstream one is set.
 */
export function geminiBatchToOpenAIEmbeddings(body: Record<string, unknown>): Record<string, unknown> {
  const requests = batchRequests(body)
  const dimensions = batchDimensions(requests)
  return {
    model: String(requests[0]!.model ?? '').replace(/^models\//, ''),
    input: requests.map((request, i) => contentText(request.content, `requests[${i}]`)),
    encoding_format: 'float',
    ...(dimensions !== undefined ? { dimensions } : {}),
  }
}

/** An embedContent body as the one-request batch it is. */
export function embedContentToGeminiBatch(body: Record<string, unknown>): Record<string, unknown> {
  return { requests: [body] }
}

/** Reads one OpenAI embedding: a list of floats, or (encoding_format base64) little-endian float32 bytes. */
function floatsOf(embedding: unknown): number[] {
  if (Array.isArray(embedding)) return embedding
  if (typeof embedding !== 'string') return []
  // Copied into a fresh buffer: Float32Array needs an aligned offset, and Buffer.from may hand out a pooled one.
  const bytes = new Uint8Array(Buffer.from(embedding, 'base64'))
  return Array.from(new Float32Array(bytes.buffer, 0, Math.floor(bytes.byteLength / 4)))
}

/** The vectors of an OpenAI embeddings list, in input order. */
function openaiVectors(body: unknown): number[][] {
  if (!isRecord(body) || !Array.isArray(body.data)) throw badRequest('upstream response is not an OpenAI embeddings list')
  return [...body.data]
    .sort((a: any, b: any) => Number(a?.index ?? 0) - Number(b?.index ?? 0))
    .map((item: any) => floatsOf(item?.embedding))
}

/** Decodes an OpenAI embeddings list into a batchEmbedContents response (which carries no usage). */
export function openaiEmbeddingsToGeminiBatch(body: unknown): Record<string, unknown> {
  return { embeddings: openaiVectors(body).map((values) => ({ values })) }
}

/** Decodes an OpenAI embeddings list into an embedContent response. */
export function openaiEmbeddingsToEmbedContent(body: unknown): Record<string, unknown> {
  return { embedding: { values: openaiVectors(body)[0] ?? [] } }
}

/** A batchEmbedContents response (of the one-request batch an embedContent became) as an embedContent response. */
export function geminiBatchToEmbedContent(body: unknown): Record<string, unknown> {
  if (!isRecord(body) || !Array.isArray(body.embeddings)) throw badRequest('upstream response is not a batchEmbedContents result')
  return { embedding: body.embeddings[0] ?? { values: [] } }
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
  requestFrom: {
    'gemini-embeddings': geminiBatchToOpenAIEmbeddings,
    'gemini-embed-content': (body) => geminiBatchToOpenAIEmbeddings(embedContentToGeminiBatch(body)),
  },
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
  requestFrom: { 'openai-embeddings': openaiEmbeddingsToGemini, 'gemini-embed-content': embedContentToGeminiBatch },
  responseFrom: { 'openai-embeddings': openaiEmbeddingsToGeminiBatch },
}

/**
 * Gemini's single `:embedContent` (`{ content, outputDimensionality }` -> `{ embedding: { values } }`). A
 * format of its own, so that no provider needs to speak it: a Gemini provider gets it as a one-request
 * batchEmbedContents, an OpenAI-style one as an embeddings request, and the answer comes back unwrapped.
 */
export const geminiEmbedContentCodec: WireCodec = {
  format: 'gemini-embed-content',
  kind: 'embeddings',
  errorBody: geminiCodec.errorBody,
  errorInfo: geminiCodec.errorInfo,
  streamErrorFrames: geminiCodec.streamErrorFrames,
  readUsage: () => undefined,
  bodyUsage: () => undefined,
  streamUsage: () => undefined,
  streamDone: () => false,
  setModel: () => {}, // the model is in the URL
  responseFrom: { 'openai-embeddings': openaiEmbeddingsToEmbedContent, 'gemini-embeddings': geminiBatchToEmbedContent },
}
