/** Builds the per-request context every hook receives. */
import { HeaderBag } from './headers.ts'
import type { InboundApi, RequestContext, RequestRecord, Usage } from './types.ts'

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The gateway's own id for a request. Records are keyed by it, so a client cannot collide with (or pre-empt)
 * another request's record by reusing an id.
 */
export function newRequestId(): string {
  return `req_${crypto.randomUUID().replaceAll('-', '')}`
}

/** The client's own correlation id (`x-client-request-id`, or `x-request-id`) when it is a sane token. */
export function clientRequestIdOf(request: Request): string | undefined {
  const given = request.headers.get('x-client-request-id') ?? request.headers.get('x-request-id')
  return given && CLIENT_REQUEST_ID.test(given) ? given : undefined
}

export function createContext(request: Request, api: InboundApi, id: string, signal: AbortSignal, now: number): RequestContext {
  return {
    id,
    clientRequestId: clientRequestIdOf(request),
    request,
    api,
    body: {},
    model: '',
    stream: false,
    clientWantsStreamUsage: false,
    principal: undefined,
    plan: [],
    signal,
    usage: emptyUsage(),
    response: undefined,
    responseHeaders: new HeaderBag(),
    state: {},
    startedAt: now,
    firstByteAt: undefined,
    attempts: 0,
    target: undefined,
  }
}

/** The record a finished request leaves behind, read off its context. */
export function recordOf(ctx: RequestContext, status: number, outcome: string, endedAt: number, errorMessage?: string): RequestRecord {
  return {
    id: ctx.id,
    clientRequestId: ctx.clientRequestId,
    startedAt: ctx.startedAt,
    endedAt,
    api: ctx.api,
    stream: ctx.stream,
    requestedModel: ctx.model,
    provider: ctx.target?.provider,
    upstreamModel: ctx.target?.model,
    principalId: ctx.principal?.id,
    principalName: ctx.principal?.name,
    tags: ctx.principal?.tags,
    status,
    outcome,
    errorMessage,
    usage: ctx.usage,
    latencyMs: endedAt - ctx.startedAt,
    ttfbMs: ctx.firstByteAt === undefined ? undefined : ctx.firstByteAt - ctx.startedAt,
    attempts: ctx.attempts,
  }
}
