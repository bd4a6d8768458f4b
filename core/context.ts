/** The per-request context every hook receives, and the record a finished request leaves behind. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatewayError } from './errors.ts'
import { codecFor } from './formats/index.ts'
import { HeaderBag } from './headers.ts'
import type { UrlFields } from './inbound.ts'
import type {
  InboundApi, Principal, RequestContext, RequestRecord, RequestView, Settle, Target, Usage,
} from './types.ts'

interface NodeExchange {
  req: IncomingMessage
  res: ServerResponse
}

/** srvx's test for a client that left while its request was still arriving (or failed). */
function isClientGone(req: IncomingMessage): boolean {
  return req.aborted || !!req.errored || (req.destroyed && !req.complete)
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The gateway's own id for a request. Records are keyed by it, so a client cannot collide with (or pre-empt)
 * another request's record by reusing an id.
 *
 * 32 hex digits: the time in milliseconds (12) and 80 random bits (20), like a UUIDv7. Time-ordered ids land at
 * the right edge of the usage tables' primary-key index instead of a random page: an insert into SQLite cost 18.3
 * µs of CPU with random ids and 8.1 µs with these (`node --import jiti/register bench/request-ids.ts`).
 */
export function newRequestId(): string {
  const random = crypto.randomUUID() // its first and last groups (8 + 12 digits) are wholly random
  return `req_${Date.now().toString(16).padStart(12, '0')}${random.slice(0, 8)}${random.slice(24)}`
}

/** The client's own correlation id (`x-client-request-id`, or `x-request-id`) when it is a sane token. */
export function clientRequestIdOf(request: Request): string | undefined {
  const given = request.headers.get('x-client-request-id') ?? request.headers.get('x-request-id')
  return given && CLIENT_REQUEST_ID.test(given) ? given : undefined
}

/** Reads, parses and checks a request's body into its context (the pipeline's; once per request). */
export type BodyLoader = (ctx: Context) => Promise<void>

export class Context implements RequestContext {
  readonly clientRequestId: string | undefined
  body: Record<string, unknown> = {}
  model = ''
  stream = false
  clientWantsStreamUsage = false
  principal: Principal | undefined = undefined
  plan: Target[] = []
  usage: Usage = emptyUsage()
  response: Response | undefined = undefined
  readonly responseHeaders = new HeaderBag()
  readonly state: Record<string, any> = {}
  firstByteAt: number | undefined = undefined
  attempts = 0
  target: Target | undefined = undefined

  /** Size of the body as received, in characters (0 until read). */
  bodyChars = 0
  /** What the `limit` hooks reserved, released once the request has ended (see Settle). */
  readonly settles: Settle[] = []
  /** Set by `setInput`: the upstream body is then encoded from it. */
  inputOverride: RequestView | undefined = undefined
  #input: RequestView | undefined
  #bodyRead: Promise<Record<string, unknown>> | undefined

  #signal: AbortSignal | undefined

  constructor(
    readonly id: string,
    readonly request: Request,
    readonly api: InboundApi,
    /** The client's signal; when absent, the request's own, made on first use. */
    signal: AbortSignal | undefined,
    readonly startedAt: number,
    private readonly loadBody: BodyLoader,
    /** What the API carries in the URL (Gemini's model and stream flag). */
    readonly urlFields?: UrlFields,
  ) {
    this.clientRequestId = clientRequestIdOf(request)
    this.#signal = signal
  }

  get signal(): AbortSignal {
    return (this.#signal ??= this.request.signal)
  }

  get clientGone(): boolean {
    const node = this.#node()
    if (!node) return this.signal.aborted
    return isClientGone(node.req) || (node.res.destroyed && !node.res.writableEnded)
  }

  onClientGone(listener: () => void): () => void {
    if (this.clientGone) {
      listener()
      return () => {}
    }
    const node = this.#node()
    if (!node) {
      const signal = this.signal
      signal.addEventListener('abort', listener, { once: true })
      return () => signal.removeEventListener('abort', listener)
    }
    // What srvx's own signal listens to, without the AbortController it makes per request.
    const { req, res } = node
    const onClose = () => {
      if (req.errored || !res.writableEnded) listener()
    }
    res.once('close', onClose)
    return () => res.off('close', onClose)
  }

  /** The Node request and response behind a served request, while no signal was asked for (else the signal rules). */
  #node(): NodeExchange | undefined {
    if (this.#signal) return undefined
    const node = (this.request as { runtime?: { node?: NodeExchange } }).runtime?.node
    return node?.req && node.res ? node : undefined
  }

  readBody(): Promise<Record<string, unknown>> {
    this.#bodyRead ??= this.loadBody(this).then(() => this.body)
    return this.#bodyRead
  }

  get bodyRead(): boolean {
    return this.#bodyRead !== undefined
  }

  input(): RequestView {
    if (this.inputOverride) return this.inputOverride
    if (!this.#input) {
      const codec = codecFor(this.api)
      if (!codec.decodeRequest) throw new GatewayError(400, `${this.api} requests have no neutral view`, { type: 'invalid_request_error' })
      this.#input = codec.decodeRequest(this.body)
    }
    return this.#input
  }

  setInput(view: RequestView): void {
    this.inputOverride = view
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
