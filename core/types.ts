/**
 * The shapes every part of Sluice shares: request context, plugins, hooks, providers and records.
 * Everything a plugin author touches is typed here; `core/index.ts` re-exports it.
 */
import type { ConsolaInstance } from 'consola'
import type { Storage } from 'unstorage'
import type { H3, H3Event } from 'h3'
import type { CommandDef } from 'citty'
import type { GatewayError } from './errors.ts'
import type { WireFormat } from './formats/types.ts'
import type { CanonicalRequest, CanonicalResponse, CanonicalStreamEvent } from './formats/canonical.ts'
import type { ResponseHeaders } from './headers.ts'

export type { ResponseHeaders }

export type { WireFormat }

/**
 * The API a client called: the wire format of its request, which decides the request parser and the
 * error/response shape it gets back.
 */
export type InboundApi = WireFormat

/** The neutral view of a request: messages, system, tools and parameters, whatever the client's format. */
export type RequestView = CanonicalRequest
/** The neutral view of a whole response: text, reasoning and tool calls as parts, finish reason, usage. */
export type ResponseView = CanonicalResponse
/**
 * One step of a response in the neutral view: a text, reasoning or tool-argument delta, a tool call's start,
 * usage, the finish reason. A stream arrives as a sequence of these; a non-stream response is presented as one.
 */
export type StreamDelta = CanonicalStreamEvent

/** Rate and concurrency limits that travel with a principal (set by an auth plugin, enforced by a limiter). */
export interface PrincipalLimits {
  /** Requests per second / per minute. */
  rps?: number
  rpm?: number
  /** Tokens (prompt + output cap) per minute. */
  tpm?: number
  /** Requests in flight at once. */
  maxConcurrent?: number
}

/** Who is calling, as established by the `auth` hook. */
export interface Principal {
  /** Stable id (a key id, a tenant id); recorded with usage. */
  id: string
  name?: string
  /** Free-form tags recorded with usage (team, project, ...). */
  tags?: Record<string, string>
  /** Limits a limiter (the governor) applies to this principal on top of its own rules. */
  limits?: PrincipalLimits
  /** Whether this principal may use a model name (as requested: `provider/model` or an alias). Absent: any. */
  allowsModel?(model: string): boolean
  /** Anything else an auth plugin wants later hooks to see (budgets, ...). */
  [extra: string]: unknown
}

/** Per-target timeouts in milliseconds. `idle` is the longest gap between two body chunks. */
export interface Timeouts {
  connect?: number
  firstByte?: number
  idle?: number
  total?: number
}

/** One place a request can be sent: a provider and the model name that provider knows. */
export interface Target {
  provider: string
  model: string
  /** Extra body fields merged into the upstream request for this target (e.g. a different temperature). */
  params?: Record<string, unknown>
  timeouts?: Timeouts
}

/** One upstream attempt, as the `call` hooks see it. `number` counts from 1 across retries and fallbacks. */
export interface Attempt {
  target: Target
  number: number
  /**
   * Extra headers for this attempt's upstream request (a trace context, ...): HTTP providers send them, their own
   * headers winning on a clash. A `call` hook adds some by passing `next({ ...attempt, headers })`.
   */
  headers?: Record<string, string>
}

/**
 * Token counts in OpenAI's meaning, whatever the wire format: `inputTokens` is the whole prompt (cache reads and
 * writes included), `outputTokens` everything generated (reasoning included).
 */
export interface TokenCounts {
  inputTokens: number
  outputTokens: number
  /** Prompt tokens read from the provider's cache. */
  cachedTokens: number
  /** Prompt tokens written to the provider's cache (Anthropic's cache_creation_input_tokens). */
  cacheWriteTokens: number
  reasoningTokens: number
}

/** A request's token counters; filled from the provider's own usage fields, or estimated (then `estimated` is true). */
export interface Usage extends TokenCounts {
  estimated: boolean
}

/** One server-sent event as it leaves (or enters) the gateway. `json` is parsed lazily and cached. */
export interface SSEEvent {
  event?: string
  data: string
  /**
   * The exact text this event arrived as (terminator included), written out as long as `data` is unchanged;
   * a changed or copied event is serialised from `data` instead.
   */
  readonly raw?: string
  readonly json: any
}

/**
 * A per-event transform returned by a `stream` hook. Return the event (or a replacement: `sseEvent(data)` or a
 * copy with new `data`) to pass it on, or `null` to drop it. It sees the events in the client's format, after
 * translation. Called once per event, synchronously: keep it cheap.
 */
export type StreamTransform = (event: SSEEvent, ctx: RequestContext) => SSEEvent | null

/**
 * What a `stream` hook may return besides a bare event transform. `delta` and `observe` see the response in the
 * neutral view whatever the client's and upstream's formats, for streamed *and* non-stream responses alike.
 */
export interface StreamHandlers {
  /**
   * Edits the response: return the delta (changed or not), a replacement list, or null to drop it. A request
   * with a `delta` handler has its response re-encoded from the neutral view, even when the upstream speaks
   * the client's format (fields with no neutral equivalent, such as logprobs, are then not carried). Throw a
   * GatewayError to end the response with an error in the client's shape.
   */
  delta?(delta: StreamDelta, ctx: RequestContext): StreamDelta | StreamDelta[] | null | void
  /** Called once after the last upstream delta: deltas held back until now (e.g. a redaction window) go out. */
  flush?(ctx: RequestContext): StreamDelta[] | void
  /** Reads the response as it passes, without changing it (no re-encoding). */
  observe?(delta: StreamDelta, ctx: RequestContext): void
  /** A raw, client-format event transform (streams only), as a bare function return would be. */
  event?: StreamTransform
}

/**
 * What a provider's `call` (and each `call` hook) returns: a JSON body, a stream of SSE bytes, or the response
 * in the neutral view (`output`, `deltas`), which the gateway encodes in the client's format.
 */
export interface ProviderResponse {
  status: number
  headers: Headers
  /** The wire format of `body` / `stream`. */
  format: WireFormat
  /**
   * Parsed JSON body (non-stream and error responses). A `call` hook may edit or replace it: the client then
   * gets the edited body (translated when the formats differ).
   */
  body?: unknown
  /** The body's text as received, so an untouched passthrough needs no re-serialisation. */
  text?: string
  /**
   * Raw SSE bytes (stream responses): a web ReadableStream or a Node Readable both qualify. Ending the
   * iteration early (`return()`) must cancel the upstream request.
   */
  stream?: AsyncIterable<Uint8Array>
  /** The whole response in the neutral view. When set it wins over `body`: the client gets it in its format. */
  output?: ResponseView
  /** A stream in the neutral view (instead of `stream`): encoded in the client's format as it goes. */
  deltas?: AsyncIterable<StreamDelta>
}

export interface ProviderRequest {
  ctx: RequestContext
  target: Target
  /** The request body, already in `format`, with `model` set to the target's upstream model. */
  body: Record<string, unknown>
  format: WireFormat
  stream: boolean
  /** Fires on client disconnect or a deadline; the upstream request must abort at once. */
  signal: AbortSignal
  timeouts: Timeouts
  /** The attempt's extra headers (`Attempt.headers`), for the upstream request. */
  headers?: Record<string, string>
}

/** A provider registered by a provider plugin. Looked up by name (the `provider/` prefix of a model). */
export interface Provider {
  name: string
  /** The wire formats this provider speaks natively, preferred first. */
  formats: WireFormat[]
  /** Known model names (without the provider prefix), for `GET /v1/models`. */
  models?: string[]
  /**
   * The formats one model speaks, when they differ by model (Vertex AI: Gemini models speak `gemini`, Claude
   * models `anthropic-messages`); `formats` otherwise.
   */
  formatsFor?(model: string): WireFormat[]
  call(request: ProviderRequest): Promise<ProviderResponse>
  /**
   * Counts a request's input tokens with the provider's own counter (Anthropic's count_tokens, Gemini's
   * countTokens). `request.body` is in `request.format`, one of `formats`. Without it the gateway estimates.
   */
  countTokens?(request: ProviderRequest): Promise<number>
  close?(): Promise<void> | void
}

/** The per-request state every hook receives. */
export interface RequestContext {
  /** The gateway's own id for this request (`x-request-id` on the response; the key of its record). */
  readonly id: string
  /** The id the client sent (`x-client-request-id` or `x-request-id`), kept for correlation only. */
  readonly clientRequestId?: string
  readonly request: Request
  readonly api: InboundApi
  /**
   * The parsed JSON body, as the client sent it. Read after the `auth` phase: during `auth` it is empty
   * unless a hook asked for it with `await ctx.readBody()`.
   */
  body: Record<string, unknown>
  /** Reads and parses the body now (auth hooks that need it); the same object later hooks see. */
  readBody(): Promise<Record<string, unknown>>
  /** The model the client asked for (`provider/model` or an alias); empty during `auth`. */
  model: string
  stream: boolean
  /** Whether the client itself asked for usage in the stream (OpenAI `stream_options.include_usage`). */
  clientWantsStreamUsage: boolean
  principal?: Principal
  /** Ordered targets; the `call` chain tries them. Set by `route`. */
  plan: Target[]
  /** Fires when the client disconnects (or the gateway gives up on the request). Made on first use. */
  readonly signal: AbortSignal
  /** Whether the client went away before its answer was complete (no AbortSignal made to find out). */
  readonly clientGone: boolean
  /**
   * Calls `listener` once if the client goes away before its answer is complete (at once if it already has);
   * returns the unlink. What the core links upstream requests with: on Node 20 it costs a fraction of `signal` (no
   * AbortController per request).
   */
  onClientGone(listener: () => void): () => void
  usage: Usage
  /** Set by a gate (auth/route/limit) to answer without calling upstream. */
  response?: Response
  /** Headers added to the response the client gets; anything set before the first byte is sent. */
  readonly responseHeaders: ResponseHeaders
  /** Per-plugin scratch space, keyed by plugin name. */
  readonly state: Record<string, any>
  readonly startedAt: number
  /** Epoch ms when the first response byte was handed to the client. */
  firstByteAt?: number
  /** How many upstream attempts were made. */
  attempts: number
  /** The target that produced the response (the last one tried). */
  target?: Target
  /** The request in the neutral view, decoded from the body on first use (cached). */
  input(): RequestView
  /**
   * Replaces the request: from now on the upstream body is encoded from this view in the provider's format
   * (fields with no neutral equivalent are then not sent).
   */
  setInput(view: RequestView): void
}

/** The record every request leaves behind, handed to `record` hooks after the response has ended. */
export interface RequestRecord {
  /** The gateway's own request id: unique, never chosen by the client. */
  id: string
  /** The client's correlation id, when it sent a sane one. */
  clientRequestId?: string
  startedAt: number
  endedAt: number
  api: InboundApi
  stream: boolean
  requestedModel: string
  provider?: string
  upstreamModel?: string
  principalId?: string
  principalName?: string
  tags?: Record<string, string>
  status: number
  /** `ok`, or an error type: `invalid_request_error`, `rate_limit_error`, `upstream_error`, `timeout`, `client_abort`, ... */
  outcome: string
  errorMessage?: string
  usage: Usage
  latencyMs: number
  ttfbMs?: number
  attempts: number
  /** Filled by the core from the `pricing` service before any `record` hook runs (the usage plugin provides it). */
  costUSD?: number
  /** Answered from a response cache, not by the upstream (set by the cache plugin; then `costUSD` is 0). */
  cached?: boolean
  /** What the upstream would have cost for an answer served from a cache (set by the cache plugin). */
  savedUSD?: number
}

/** Continue the `call` chain with an attempt (possibly a different target). */
export type CallNext = (attempt: Attempt) => Promise<ProviderResponse>

/**
 * Returned by a gate hook (usually `limit`) to release what it reserved. Runs exactly once when the request has ended
 * (success, error, client abort, or a later gate refusing it), with the final record (usage and cost included),
 * before the `record` hooks; settle functions run in reverse order of registration.
 */
export type Settle = (record: RequestRecord) => void | Promise<void>

/** The six request hooks, in pipeline order. */
export interface GatewayHooks {
  /** Who is calling: runs on the request's headers, before the body is read. */
  auth: (ctx: RequestContext) => void | Settle | Promise<void | Settle>
  route: (ctx: RequestContext) => void | Settle | Promise<void | Settle>
  limit: (ctx: RequestContext) => void | Settle | Promise<void | Settle>
  call: (ctx: RequestContext, attempt: Attempt, next: CallNext) => Promise<ProviderResponse>
  stream: (ctx: RequestContext) => StreamTransform | StreamHandlers | void | undefined
  record: (record: RequestRecord, ctx: RequestContext) => void | Promise<void>
}
export type HookName = keyof GatewayHooks
export const HOOK_NAMES: readonly HookName[] = ['auth', 'route', 'limit', 'call', 'stream', 'record']

/** A hook as a plugin declares it: the same arguments, plus its plugin's context last. */
export type PluginHook<N extends HookName> = (...args: [...Parameters<GatewayHooks[N]>, gw: PluginContext]) => ReturnType<GatewayHooks[N]>
export type PluginHooks = { [N in HookName]?: PluginHook<N> }

/** A route handler a plugin mounts on the gateway's HTTP app (h3). */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** The scoped context a plugin's `setup` receives. */
export interface PluginContext {
  readonly name: string
  readonly logger: ConsolaInstance
  /** Key-value storage namespaced to this plugin (`plugins:<name>:`). */
  readonly storage: Storage
  /** The gateway-wide storage, for plugins that deliberately share data (e.g. keys read by the admin API). */
  readonly rootStorage: Storage
  /** The gateway's h3 app: mount routes with `gw.app.get('/admin/x', handler)`. */
  readonly app: H3
  /** Register a hook after boot-time ordering (runs after the hooks of plugins set up before this one). */
  hook<N extends HookName>(name: N, fn: GatewayHooks[N]): () => void
  registerProvider(provider: Provider): void
  getProvider(name: string): Provider | undefined
  /** Contribute model names (e.g. router aliases) to `GET /v1/models`. */
  addModels(list: () => string[]): void
  /** Injectable time source; tests swap it. */
  readonly clock: Clock
  /**
   * How many worker processes serve this config (`sluice start --workers N`) and which one this is. A plugin whose
   * state lives in one process (a memory store) refuses to start with more than one, naming the fix.
   */
  readonly workers: { index: number; count: number }
  /**
   * Mount an admin route at `/admin<path>`. The core checks the admin key (constant time) before the
   * handler runs and answers 401 without it; with no admin key configured, admin routes answer 404.
   */
  admin(method: RouteMethod, path: string, handler: (event: H3Event) => unknown): void
  /** Offer a service to other plugins (see `Services` for the well-known names). */
  provide<K extends keyof Services>(name: K, value: Services[K]): void
  /** Look up a service another plugin provided; undefined when no plugin provides it. Call at request time, not in setup (setup order). */
  inject<K extends keyof Services>(name: K): Services[K] | undefined
  /** The loaded plugins in run order, with the hooks each registered and their options (secrets redacted). */
  plugins(): ReadonlyArray<PluginSummary>
  /** Runs `fn` once every plugin's setup has finished (e.g. to check references to other plugins' providers). */
  onReady(fn: () => void | Promise<void>): void
  /**
   * Runs `fn` when the gateway starts serving: the place for I/O (open a database, connect to Redis). `setup`
   * itself only wires things up, so `sluice check` can run it without side effects; `check --connect` runs
   * these too and reports each that fails.
   */
  onStart(fn: () => void | Promise<void>): void
  /**
   * Runs the `auth` phase for a request that is not a model call (a plugin's own route, e.g. `GET
   * /v1/responses/{id}`): the caller's principal, or the error response it must get, in the shape of `api`
   * (default OpenAI's). With no auth plugin every caller passes, with no principal.
   */
  authorize(request: Request, api?: InboundApi): Promise<{ principal?: Principal; error?: Response }>
}

export interface PluginSummary {
  name: string
  order: number
  hooks: HookName[]
  options?: Record<string, unknown>
}

/**
 * Services plugins offer each other by name (`gw.provide` / `gw.inject`). The core consumes two of them, typed
 * here; every other service is typed by the plugin that provides it, by declaration merging:
 *
 *   declare module 'sluice' { interface Services { myThing: MyThing } }
 */
export interface Services {
  /** USD cost of a request's usage; undefined when the model has no known price. The core prices every record with it. */
  pricing: { cost(provider: string, model: string, usage: Usage): number | undefined; price(provider: string, model: string): ModelPrice | undefined }
  /**
   * Completes a finished request's usage where the provider reported none (a tokenizer estimate, flagged
   * `estimated`). The core awaits it before pricing and before any `record` hook runs.
   */
  /**
   * What each model can do (the usage plugin ships a table beside its prices). The core lowers output caps to
   * `maxOutputTokens` and drops translated reasoning controls for a model with `reasoning: false`.
   */
  models: { capabilities(provider: string, model: string): { maxOutputTokens?: number; reasoning?: boolean } | undefined }
  usageEstimator: {
    complete(record: RequestRecord, ctx: RequestContext): void | Promise<void>
    /** Input tokens of a request, counted with a tokenizer (for the count-tokens endpoints). */
    countInput?(ctx: RequestContext): number | Promise<number>
  }
}

/** USD per one token. */
export interface ModelPrice {
  input: number
  output: number
  cachedInput?: number
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /** Uniform [0, 1). */
  random(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export type Teardown = () => void | Promise<void>

/** What `setup` may return: its teardown, or the plugin's hooks (built in setup, over what setup made) and a teardown. */
export type SetupResult = void | Teardown | { hooks?: PluginHooks; teardown?: Teardown }

export interface SluicePlugin {
  name: string
  /** Sort key within a phase: lower runs first. `enforce: 'pre'` = -100, `'post'` = 100, default 0. */
  order?: number
  enforce?: 'pre' | 'post'
  /** Hooks that need nothing from setup; each receives its plugin's context as the last argument. */
  hooks?: PluginHooks
  /** Wires the plugin up (no I/O: see `gw.onStart`). May return the plugin's hooks and a teardown. */
  setup?(gw: PluginContext): SetupResult | Promise<SetupResult>
  /** Options as given, for `sluice check` and the dashboard (secrets redacted by the host). */
  options?: Record<string, unknown>
  /** CLI subcommands this plugin adds (`sluice <name> ...`), built with citty's `defineCommand`. */
  cli?: (gw: PluginContext) => Record<string, CommandDef<any>>
}

export interface ServerOptions {
  port?: number
  host?: string
  /** Max request body: bytes, or a string like `'4mb'`. */
  bodyLimit?: number | string
  /** How long shutdown waits for in-flight requests, in ms. */
  shutdownTimeout?: number
  /** Open client connections at most; past it the oldest connection that has no request in progress is closed. */
  maxConnections?: number
  /** ms a client has to send its request headers. */
  headersTimeout?: number
  /** ms a client has to send its whole request, body included. */
  requestTimeout?: number
  /** ms an idle keep-alive connection stays open. */
  keepAliveTimeout?: number
  /** Host names (no port) accepted besides the ones the server listens on; when set, Host is always checked. */
  allowedHosts?: string[]
  /** Origins allowed to call the gateway from a browser (CORS); no CORS headers at all when unset. */
  cors?: string[]
}

export interface StorageOptions {
  driver: string
  [option: string]: unknown
}

export interface GatewayConfig {
  server?: ServerOptions
  storage?: StorageOptions
  plugins?: SluicePlugin[]
  /** Guards `/admin/*` (and the dashboard). Admin routes are off entirely when unset. Read it from the environment. */
  adminKey?: string
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug'
}

export type { GatewayError }
