/**
 * A tiny stand-in for the core in resilience tests: a fake clock, scripted fake providers, and a runner that
 * runs `route` hooks in order and composes `call` hooks onion-style (sorted by `order`, lower = outer) around
 * the provider call, exactly as the core's composer does.
 */
import { createConsola } from 'consola'
import { GatewayError } from '../../core/errors.ts'
import { timeoutError } from '../../core/upstream.ts'
import { createContext, recordOf } from '../../core/context.ts'
import { sortPlugins } from '../../core/host.ts'
import type { Attempt, CallNext, Clock, PluginContext, Provider, ProviderRequest, ProviderResponse, RequestContext, Services, SluicePlugin, Target } from '../../core/types.ts'

/** mulberry32: a small seeded PRNG, so "random" tests are repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Time moves only when someone sleeps or `advance`s. `onSleep` runs inside a sleep (e.g. to abort there). */
export class FakeClock implements Clock {
  time = 1_700_000_000_000
  readonly sleeps: number[] = []
  onSleep?: (ms: number) => void
  random: () => number

  constructor(seed = 42) {
    this.random = seeded(seed)
  }

  now = () => this.time

  advance(ms: number): void {
    this.time += ms
  }

  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms)
    this.onSleep?.(ms)
    if (signal?.aborted) throw signal.reason
    this.time += ms
    await Promise.resolve()
    if (signal?.aborted) throw signal.reason
  }
}

/** What a scripted provider does on one call. */
export type Step =
  | 'ok'
  | { ok: true; latencyMs: number }
  | 400 | 404 | 429 | 500 | 502 | 503
  | { status: number; retryAfter?: number }
  | 'timeout'
  | 'connection'
  | 'hang'
  | 'resolved-500'

export const STEP_KINDS: Step[] = ['ok', 400, 429, 500, 503, { status: 429, retryAfter: 2 }, 'timeout', 'connection', 'resolved-500']

export interface FakeProvider extends Provider {
  calls: ProviderRequest[]
}

/** A provider that plays `script` (a list, then its last step forever; or a function of the call number). */
export function fakeProvider(name: string, script: Step[] | ((call: number, request: ProviderRequest) => Step), clock?: FakeClock): FakeProvider {
  const calls: ProviderRequest[] = []
  const stepFor = (n: number, request: ProviderRequest): Step =>
    typeof script === 'function' ? script(n, request) : script[Math.min(n - 1, script.length - 1)]!
  return {
    name,
    formats: ['openai-chat'],
    calls,
    async call(request) {
      calls.push(request)
      const step = stepFor(calls.length, request)
      if (step === 'ok' || (typeof step === 'object' && 'ok' in step)) {
        if (typeof step === 'object') clock?.advance(step.latencyMs)
        const body = { provider: name, model: request.target.model, params: request.target.params }
        return { status: 200, headers: new Headers({ 'content-type': 'application/json' }), format: 'openai-chat', body, text: JSON.stringify(body) }
      }
      if (step === 'timeout') throw timeoutError('firstByte', 1000)
      if (step === 'connection') throw new GatewayError(502, 'could not reach the upstream provider', { type: 'api_error', code: 'connection_error', upstream: true })
      if (step === 'resolved-500') return { status: 500, headers: new Headers(), format: 'openai-chat', body: { error: { message: 'boom' } } }
      if (step === 'hang') {
        return new Promise((_, reject) => {
          if (request.signal.aborted) return reject(request.signal.reason)
          request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true })
        })
      }
      const { status, retryAfter } = typeof step === 'number' ? { status: step, retryAfter: undefined } : step
      throw new GatewayError(status, `upstream answered ${status}`, { upstream: true, retryAfter })
    },
  }
}

export interface TestGateway {
  gw: PluginContext
  clock: FakeClock
  warnings: string[]
  models(): string[]
  context(model: string, signal?: AbortSignal): RequestContext
  /** Route and limit phases, the composed call chain, then the record hooks. */
  request(model: string, options?: { signal?: AbortSignal; context?: RequestContext }): Promise<Result>
}

export type Result =
  | { ok: true; response: ProviderResponse; ctx: RequestContext }
  | { ok: false; error: unknown; ctx: RequestContext }

export async function createTestGateway(plugins: SluicePlugin[], providers: Provider[], clock = new FakeClock()): Promise<TestGateway> {
  const byName = new Map(providers.map((p) => [p.name, p]))
  const services = new Map<string, unknown>()
  const modelLists: Array<() => string[]> = []
  const warnings: string[] = []
  const logger = createConsola({ reporters: [{ log: (entry) => { if (entry.type === 'warn') warnings.push(entry.args.join(' ')) } }], level: 3 })
  const gw = {
    name: 'test',
    logger,
    clock,
    registerProvider: (p: Provider) => byName.set(p.name, p),
    getProvider: (name: string) => byName.get(name),
    addModels: (list: () => string[]) => { modelLists.push(list) },
    provide: (name: string, value: unknown) => { services.set(name, value) },
    inject: (name: string) => services.get(name),
    onReady: (fn: () => void) => { ready.push(fn) },
  } as unknown as PluginContext
  const ready: Array<() => void | Promise<void>> = []

  const sorted = sortPlugins(plugins)
  for (const plugin of sorted) await plugin.setup?.({ ...gw, name: plugin.name } as PluginContext)
  for (const fn of ready) await fn() // as the core does once every setup has run
  const routeHooks = sorted.flatMap((p) => (p.hooks?.route ? [p.hooks.route] : []))
  const limitHooks = sorted.flatMap((p) => (p.hooks?.limit ? [p.hooks.limit] : []))
  const callHooks = sorted.flatMap((p) => (p.hooks?.call ? [p.hooks.call] : []))
  const recordHooks = sorted.flatMap((p) => (p.hooks?.record ? [p.hooks.record] : []))

  function context(model: string, signal = new AbortController().signal): RequestContext {
    const ctx = createContext(new Request('http://gateway.test/v1/chat/completions', { method: 'POST' }), 'openai-chat', `req_${Math.floor(clock.random() * 1e9)}`, signal, clock.now())
    ctx.model = model
    ctx.body = { model, messages: [{ role: 'user', content: 'hi' }] }
    return ctx
  }

  async function request(model: string, options: { signal?: AbortSignal; context?: RequestContext } = {}): Promise<Result> {
    const ctx = options.context ?? context(model, options.signal)
    const result = await run(ctx)
    const record = recordOf(ctx, statusOf(result) ?? 500, result.ok ? 'ok' : 'error', clock.now())
    for (const hook of recordHooks) await hook(record, ctx)
    return result
  }

  async function run(ctx: RequestContext): Promise<Result> {
    try {
      for (const hook of routeHooks) await hook(ctx)
      if (ctx.plan.length === 0) {
        const slash = ctx.model.indexOf('/')
        if (slash < 1 || !byName.has(ctx.model.slice(0, slash))) throw new GatewayError(404, `The model "${ctx.model}" does not exist`)
        ctx.plan = [{ provider: ctx.model.slice(0, slash), model: ctx.model.slice(slash + 1) }]
      }
      for (const hook of limitHooks) await hook(ctx)
      const innermost: CallNext = async (attempt: Attempt) => {
        ctx.attempts++
        ctx.target = attempt.target
        const provider = byName.get(attempt.target.provider)!
        return provider.call({
          ctx,
          target: attempt.target,
          body: { ...ctx.body, ...attempt.target.params, model: attempt.target.model },
          format: 'openai-chat',
          stream: ctx.stream,
          signal: ctx.signal,
          timeouts: attempt.target.timeouts ?? {},
        })
      }
      const dispatch = (i: number): CallNext => (attempt) => (i === callHooks.length ? innermost(attempt) : callHooks[i]!(ctx, attempt, dispatch(i + 1)))
      const response = await dispatch(0)({ target: ctx.plan[0]!, number: 1 })
      return { ok: true, response, ctx }
    } catch (error) {
      return { ok: false, error, ctx }
    }
  }

  return { gw, clock, warnings, models: () => modelLists.flatMap((list) => list()), context, request }
}

export function servedBy(result: Result): string | undefined {
  return result.ok ? `${(result.response.body as any).provider}/${(result.response.body as any).model}` : undefined
}

export function statusOf(result: Result): number | undefined {
  return result.ok ? result.response.status : GatewayError.is(result.error) ? result.error.status : undefined
}

export function breakersOf(gateway: TestGateway): Services['breakers'] & { blockedFor(target: Target): number } {
  return gateway.gw.inject('breakers') as any
}
