/**
 * The keys plugin on the core's own plugin host (test/helpers/plugin-host.ts), with a fake clock; `admin()`
 * calls the admin routes with the admin key.
 */
import type { H3 } from 'h3'
import type { LogObject } from 'consola'
import type { Storage } from 'unstorage'
import { startPluginHost } from '../helpers/plugin-host.ts'
import { GatewayError } from '../../core/errors.ts'
import { recordOf } from '../../core/context.ts'
import type { Clock, ModelPrice, PluginContext, RequestContext, RequestRecord, Services, Target, Usage } from '../../core/types.ts'
import { keys, type KeysPluginOptions } from '../../plugins/keys/index.ts'

export interface FakeClock extends Clock {
  advance(ms: number): void
}

export function fakeClock(start = Date.UTC(2025, 0, 15, 12, 0, 0)): FakeClock {
  let now = start
  return {
    now: () => now,
    random: () => 0.5,
    sleep: async (ms) => {
      now += ms
    },
    advance(ms) {
      now += ms
    },
  }
}

export interface Harness {
  plugin: ReturnType<typeof keys>
  gw: PluginContext
  app: H3
  clock: FakeClock
  storage: Storage
  services: Map<string, unknown>
  logs: LogObject[]
  /** Calls an admin route; unexpected (non-GatewayError) throws come back as 500 so tests can catch them. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  close(): Promise<void>
}

export async function startKeys(
  options: KeysPluginOptions = {},
  env: { storage?: Storage; clock?: FakeClock } = {},
): Promise<Harness> {
  const clock = env.clock ?? fakeClock()
  const plugin = keys(options)
  const host = await startPluginHost([plugin], { storage: env.storage, clock })
  return {
    plugin,
    gw: host.context(plugin.name),
    app: host.app,
    clock,
    storage: host.storage,
    services: host.services,
    logs: host.logs,
    async admin(method, path, body) {
      const init: RequestInit = { method, headers: { 'content-type': 'application/json' } }
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body)
      const response = await host.adminRequest(path, init)
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {}
      return { status: response.status, body: parsed }
    },
    close: () => host.close(),
  }
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }
}

export function requestContext(init: {
  key?: string
  header?: 'authorization' | 'x-api-key'
  model?: string
  body?: Record<string, unknown>
  plan?: Target[]
  api?: RequestContext['api']
  now?: number
}): RequestContext {
  const model = init.model ?? 'openai/gpt-4o-mini'
  const body = init.body ?? { model, messages: [{ role: 'user', content: 'hello' }] }
  const headers = new Headers({ 'content-type': 'application/json' })
  if (init.key !== undefined) {
    if ((init.header ?? 'authorization') === 'authorization') headers.set('authorization', `Bearer ${init.key}`)
    else headers.set('x-api-key', init.key)
  }
  return {
    id: `req_${Math.random().toString(36).slice(2)}`,
    request: new Request('http://gateway.test/v1/chat/completions', { method: 'POST', headers, body: JSON.stringify(body) }),
    api: init.api ?? 'openai-chat',
    body,
    model,
    stream: false,
    clientWantsStreamUsage: false,
    plan: init.plan ?? [],
    signal: new AbortController().signal,
    usage: emptyUsage(),
    responseHeaders: new Headers(),
    state: {},
    startedAt: init.now ?? Date.now(),
    attempts: 0,
  }
}

export function recordFor(ctx: RequestContext, costUSD: number | undefined, status = 200): RequestRecord {
  return { ...recordOf(ctx, status, status === 200 ? 'ok' : 'error', ctx.startedAt + 1), costUSD }
}

/** Calls a hook, returning the GatewayError it threw (or undefined); any other throw fails the test. */
export async function gatewayErrorOf(run: () => unknown): Promise<GatewayError | undefined> {
  try {
    await run()
    return undefined
  } catch (error) {
    if (GatewayError.is(error)) return error
    throw error
  }
}

/**
 * A pricing table and a spend ledger with the usage plugin's interface, kept in memory: `recordCost` is what the
 * usage plugin's `record` does, and `spentUSD` answers after a macrotask, like a store query would.
 */
export function memoryUsageServices(prices: Record<string, ModelPrice>) {
  const costs: Array<{ principalId: string; at: number; usd: number }> = []
  const pricing: Services['pricing'] = {
    price: (provider, model) => prices[`${provider}/${model}`],
    cost(provider, model, usage) {
      const price = prices[`${provider}/${model}`]
      return price ? usage.inputTokens * price.input + usage.outputTokens * price.output : undefined
    },
  }
  const spend: Services['spend'] = {
    async spentUSD(principalId, sinceMs) {
      await new Promise((resolve) => setImmediate(resolve))
      return costs.filter((c) => c.principalId === principalId && c.at >= sinceMs).reduce((sum, c) => sum + c.usd, 0)
    },
  }
  return {
    pricing,
    spend,
    recordCost(principalId: string, at: number, usd: number) {
      costs.push({ principalId, at, usd })
    },
    total(principalId: string) {
      return costs.filter((c) => c.principalId === principalId).reduce((sum, c) => sum + c.usd, 0)
    },
  }
}
