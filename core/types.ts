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
import type { ResponseHeaders } from './headers.ts'

export type { ResponseHeaders }

export type { WireFormat }

/** The API a client called: decides the request parser and the error/response shape it gets back. */
export type InboundApi = 'openai-chat' | 'anthropic-messages' | 'openai-embeddings'

/** Who is calling, as established by the `auth` hook. */
export interface Principal {
  /** Stable id (a key id, a tenant id); recorded with usage. */
  id: string
  name?: string
  /** Free-form tags recorded with usage (team, project, ...). */
  tags?: Record<string, string>
  /** Anything else an auth plugin wants later hooks to see (limits, budgets, allowed models). */
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
  /** The exact text this event arrived as (terminator included); written out unchanged when no transform replaced the event. */
  raw?: string
  readonly json: any
}

/**
 * A per-event transform returned by a `stream` hook. Return the event (or a replacement) to pass it on,
 * or `null` to drop it. Called once per event, synchronously: keep it cheap.
 */
export type StreamTransform = (event: SSEEvent, ctx: RequestContext) => SSEEvent | null

/** What a provider's `call` returns: a JSON body, or a stream of SSE bytes, in `format`. */
export interface ProviderResponse {
  status: number
  headers: Headers
  format: WireFormat
  /** Parsed JSON body (non-stream and error responses). */
  body?: unknown
  /** The body's text as received, so an untouched passthrough needs no re-serialisation. */
  text?: string
  /**
   * Raw SSE bytes (stream responses): a web ReadableStream or a Node Readable both qualify. Ending the
   * iteration early (`return()`) must cancel the upstream request.
   */
  stream?: AsyncIterable<Uint8Array>
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
}

/** A provider registered by a provider plugin. Looked up by name (the `provider/` prefix of a model). */
export interface Provider {
  name: string
  /** The wire formats this provider speaks natively, preferred first. */
  formats: WireFormat[]
  /** Known model names (without the provider prefix), for `GET /v1/models`. */
  models?: string[]
  call(request: ProviderRequest): Promise<ProviderResponse>
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
  /** The parsed JSON body, as the client sent it. */
  body: Record<string, unknown>
  /** The model the client asked for (`provider/model` or an alias). */
  model: string
  stream: boolean
  /** Whether the client itself asked for usage in the stream (OpenAI `stream_options.include_usage`). */
  clientWantsStreamUsage: boolean
  principal?: Principal
  /** Ordered targets; the `call` chain tries them. Set by `route`. */
  plan: Target[]
  /** Fires when the client disconnects (or the gateway gives up on the request). */
  readonly signal: AbortSignal
  usage: Usage
  /** Set by a gate (auth/route/limit) to answer without calling upstream. */
  response?: Response
  /** Headers added to the response the client gets (rate-limit headers, ...). */
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
  /** Filled by the core from the `pricing` service when one is provided (the usage plugin provides it). */
  costUSD?: number
}

/** Continue the `call` chain with an attempt (possibly a different target). */
export type CallNext = (attempt: Attempt) => Promise<ProviderResponse>

/** The six request hooks, in pipeline order. */
export interface GatewayHooks {
  auth: (ctx: RequestContext) => void | Promise<void>
  route: (ctx: RequestContext) => void | Promise<void>
  limit: (ctx: RequestContext) => void | Promise<void>
  call: (ctx: RequestContext, attempt: Attempt, next: CallNext) => Promise<ProviderResponse>
  stream: (ctx: RequestContext) => StreamTransform | void | undefined
  record: (record: RequestRecord, ctx: RequestContext) => void | Promise<void>
}
export type HookName = keyof GatewayHooks
export const HOOK_NAMES: readonly HookName[] = ['auth', 'route', 'limit', 'call', 'stream', 'record']

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
  /** Register a hook after boot-time ordering (runs after static hooks of earlier plugins). */
  hook<N extends HookName>(name: N, fn: GatewayHooks[N]): () => void
  registerProvider(provider: Provider): void
  getProvider(name: string): Provider | undefined
  /** Contribute model names (e.g. router aliases) to `GET /v1/models`. */
  addModels(list: () => string[]): void
  /** Injectable time source; tests swap it. */
  readonly clock: Clock
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
}

export interface PluginSummary {
  name: string
  order: number
  hooks: HookName[]
  options?: Record<string, unknown>
}

/** Well-known services plugins offer each other. Extend by interface augmentation. */
export interface Services {
  /** USD cost of a request's usage; undefined when the model has no known price. (usage plugin) */
  pricing: { cost(provider: string, model: string, usage: Usage): number | undefined; price(provider: string, model: string): ModelPrice | undefined }
  /** Spend per principal since a time, from the store plus an in-memory running total. (usage plugin) */
  spend: { spentUSD(principalId: string, sinceMs: number): Promise<number> }
  /** Circuit state per target, for metrics and the dashboard. (breaker plugin) */
  breakers: {
    states(): Array<{ target: string; state: 'closed' | 'open' | 'half-open'; failures: number; requests: number }>
    /** Milliseconds until `target` admits an attempt (0: now). The router skips targets that would wait. */
    blockedFor?(target: Target): number
  }
  /** Recording counters, for metrics and the dashboard. (usage plugin) */
  recorder: { stats(): Record<string, number>; subscribe(listener: (record: RequestRecord) => void): () => void }
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

export interface SluicePlugin {
  name: string
  /** Sort key within a phase: lower runs first. `enforce: 'pre'` = -100, `'post'` = 100, default 0. */
  order?: number
  enforce?: 'pre' | 'post'
  hooks?: Partial<GatewayHooks>
  setup?(gw: PluginContext): void | Teardown | Promise<void | Teardown>
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
