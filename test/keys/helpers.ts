/**
 * The keys plugin on the testing kit's plugin harness (the core's own PluginHost), with a fake clock: `auth` and
 * `limit` run those phases as the pipeline does, `finish` ends a request as the pipeline does (settle functions,
 * then record hooks), `admin()` calls the admin routes with the admin key.
 */
import type { LogObject } from 'consola'
import type { Storage } from 'unstorage'
import { pluginHarness, type PluginHarness, type RecordInit } from '../../testing/index.ts'
import type { Context } from '../../core/context.ts'
import type { GatewayError } from '../../core/errors.ts'
import type { Clock, InboundApi, ModelPrice, PluginContext, RequestRecord, Services, SluicePlugin, Target } from '../../core/types.ts'
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

/** A request as a test describes it: the key it presents (and in which header), its model, body and plan. */
export interface KeyRequest {
  key?: string
  header?: 'authorization' | 'x-api-key'
  model?: string
  body?: Record<string, unknown>
  plan?: Target[]
  api?: InboundApi
}

export interface KeysRig {
  harness: PluginHarness
  /** The keys plugin's own context (its storage namespace, services, routes). */
  gw: PluginContext
  clock: FakeClock
  storage: Storage
  services: Map<string, unknown>
  logs: LogObject[]
  /** A request context as the pipeline builds it, with the key in its headers. */
  request(init?: KeyRequest): Context
  /** Runs the auth phase: undefined when it passed (then `ctx.principal` is set), else the GatewayError. */
  auth(ctx: Context): Promise<GatewayError | undefined>
  /** Runs the limit phase (the budget); its settle function lands in `ctx.settles`. */
  limit(ctx: Context): Promise<GatewayError | undefined>
  /** Ends a request as the pipeline does: settle functions once, then record hooks. */
  finish(ctx: Context, init?: RecordInit): Promise<RequestRecord>
  /** Calls an admin route; the body comes back parsed when it is JSON. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  close(): Promise<void>
}

const DEFAULT_MODEL = 'openai/gpt-4o-mini'

/** keys() (plus any `others`, after it in config order) on the plugin harness. */
export async function startKeys(
  options: KeysPluginOptions = {},
  env: { storage?: Storage; clock?: FakeClock; others?: SluicePlugin[] } = {},
): Promise<KeysRig> {
  const clock = env.clock ?? fakeClock()
  const harness = await pluginHarness([keys(options), ...(env.others ?? [])], { storage: env.storage, clock })
  return {
    harness,
    gw: harness.pluginContext('keys'),
    clock,
    storage: harness.storage,
    services: harness.services,
    logs: harness.logs,
    request(init = {}) {
      const headers: Record<string, string> = {}
      if (init.key !== undefined) {
        if ((init.header ?? 'authorization') === 'authorization') headers.authorization = `Bearer ${init.key}`
        else headers['x-api-key'] = init.key
      }
      return harness.context({ model: init.model ?? DEFAULT_MODEL, body: init.body, plan: init.plan, api: init.api, headers })
    },
    auth: (ctx) => harness.gate('auth', ctx),
    limit: (ctx) => harness.gate('limit', ctx),
    finish: (ctx, init) => harness.finish(ctx, init),
    async admin(method, path, body) {
      const init: RequestInit = { method, headers: { 'content-type': 'application/json' } }
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body)
      const response = await harness.adminRequest(path, init)
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {}
      return { status: response.status, body: parsed }
    },
    close: () => harness.close(),
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
