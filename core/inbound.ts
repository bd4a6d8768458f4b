/**
 * The APIs clients call, by wire format: what each requires of a request before any hook after `auth` runs,
 * and where it carries the model and the stream flag (the body, or — for Gemini — the URL).
 */
import { GatewayError } from './errors.ts'
import { assertModelName } from './validate.ts'
import type { Context } from './context.ts'
import type { InboundApi } from './types.ts'

/** Fields an API carries in its URL rather than its body (Gemini: `/v1beta/models/{model}:streamGenerateContent`). */
export interface UrlFields {
  model?: string
  stream?: boolean
}

type ShapeReader = (ctx: Context, body: Record<string, unknown>) => void

function invalid(message: string, param?: string): GatewayError {
  return new GatewayError(400, message, { type: 'invalid_request_error', param: param ?? null })
}

function bodyModel(ctx: Context, body: Record<string, unknown>): void {
  if (typeof body.model !== 'string' || !body.model.trim()) {
    throw new GatewayError(400, 'you must provide a model parameter', { type: 'invalid_request_error', param: 'model', code: 'missing_model' })
  }
  ctx.model = body.model
}

function urlModel(ctx: Context): void {
  const model = ctx.urlFields?.model
  if (!model) throw invalid('the model is missing from the URL (…/models/{model}:method)', 'model')
  ctx.model = model.startsWith('models/') ? model.slice('models/'.length) : model
}

/** `stream` as the client sent it: absent or a boolean (a truthy string would make some upstreams stream). */
function streamFlag(body: Record<string, unknown>): boolean {
  const value = body.stream
  if (value !== undefined && value !== null && typeof value !== 'boolean') throw invalid('stream must be a boolean', 'stream')
  return value === true
}

function requireArray(body: Record<string, unknown>, field: string): void {
  if (!Array.isArray(body[field])) throw invalid(`${field} must be an array`, field)
}

const SHAPES: Record<InboundApi, ShapeReader> = {
  'openai-chat'(ctx, body) {
    bodyModel(ctx, body)
    requireArray(body, 'messages')
    ctx.stream = streamFlag(body)
    ctx.clientWantsStreamUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
  },
  'anthropic-messages'(ctx, body) {
    bodyModel(ctx, body)
    requireArray(body, 'messages')
    ctx.stream = streamFlag(body)
  },
  'openai-responses'(ctx, body) {
    bodyModel(ctx, body)
    if (typeof body.input !== 'string' && !Array.isArray(body.input)) throw invalid('input must be a string or an array of items', 'input')
    ctx.stream = streamFlag(body)
  },
  'openai-embeddings'(ctx, body) {
    bodyModel(ctx, body)
    if (body.input === undefined) throw invalid('you must provide an input parameter', 'input')
  },
  gemini(ctx, body) {
    urlModel(ctx)
    // countTokens may wrap the whole request: { generateContentRequest: { contents, ... } }.
    const wrapped = body.generateContentRequest
    requireArray(typeof wrapped === 'object' && wrapped !== null ? wrapped as Record<string, unknown> : body, 'contents')
    ctx.stream = ctx.urlFields?.stream === true
  },
  'gemini-embeddings'(ctx, body) {
    urlModel(ctx)
    requireArray(body, 'requests')
  },
  'gemini-embed-content'(ctx, body) {
    urlModel(ctx)
    if (typeof body.content !== 'object' || body.content === null) throw invalid('content is required', 'content')
  },
  // Provider side only: no route serves Bedrock's Converse API to clients.
  'bedrock-converse'() {
    throw invalid('the Bedrock Converse API is not served to clients', 'model')
  },
}

/** Checks what the inbound API requires of the body and reads the model and stream flag into the context. */
export function readRequestShape(ctx: Context): void {
  SHAPES[ctx.api](ctx, ctx.body)
  assertModelName(ctx.model)
  if (ctx.api !== 'openai-chat') ctx.clientWantsStreamUsage = true
}

/** Which API a path belongs to, for answering a request that reached no route in the shape its client expects. */
export function apiOfPath(path: string): InboundApi {
  if (path.startsWith('/v1/messages') || path === '/v1/complete') return 'anthropic-messages'
  if (path.startsWith('/v1beta/') || /^\/v1\/models\/[^/]+:/.test(path)) return 'gemini'
  if (path.startsWith('/v1/responses')) return 'openai-responses'
  return 'openai-chat'
}
