/** Hand-built request contexts, a virtual clock and a captured logger for driving the governor's hooks directly. */
import { createConsola, type ConsolaInstance } from 'consola'
import { startPluginHost } from '../helpers/plugin-host.ts'
import { GatewayError } from '../../core/errors.ts'
import { recordOf } from '../../core/context.ts'
import type { Clock, InboundApi, Principal, RequestContext, RequestRecord, SluicePlugin, Target, Usage } from '../../core/types.ts'

export interface VirtualClock extends Clock {
  advance(ms: number): void
  set(ms: number): void
}

export function virtualClock(start = 1_700_000_000_000): VirtualClock {
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
    set(ms) {
      now = ms
    },
  }
}

export interface ContextInit {
  key?: string
  limits?: Record<string, unknown>
  model?: string
  plan?: Target[]
  body?: Record<string, unknown>
  api?: InboundApi
}

let seq = 0

export function context(init: ContextInit = {}): RequestContext {
  const model = init.model ?? 'openai/gpt-4o-mini'
  const principal: Principal | undefined = init.key ? { id: init.key, ...(init.limits ? { limits: init.limits } : {}) } : undefined
  return {
    id: `req_test_${++seq}`,
    request: new Request('http://gateway.test/v1/chat/completions', { method: 'POST' }),
    api: init.api ?? 'openai-chat',
    body: init.body ?? { model, messages: [{ role: 'user', content: 'hi' }] },
    model,
    stream: false,
    clientWantsStreamUsage: false,
    principal,
    plan: init.plan ?? [],
    signal: new AbortController().signal,
    usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
    responseHeaders: new Headers(),
    state: {},
    startedAt: 0,
    attempts: 0,
  }
}

export function record(ctx: RequestContext, status: number, outcome: string, usage: Partial<Usage> = {}): RequestRecord {
  return { ...recordOf(ctx, status, outcome, ctx.startedAt + 1), usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false, ...usage } }
}

/** Runs the limit hook: undefined when admitted, the GatewayError when refused. */
export async function limit(plugin: SluicePlugin, ctx: RequestContext): Promise<GatewayError | undefined> {
  try {
    await plugin.hooks!.limit!(ctx)
    return undefined
  } catch (error) {
    if (GatewayError.is(error)) return error
    throw error
  }
}

export async function settle(plugin: SluicePlugin, ctx: RequestContext, status = 200, outcome = 'ok', usage: Partial<Usage> = {}): Promise<void> {
  await plugin.hooks!.record!(record(ctx, status, outcome, usage), ctx)
}

export interface CapturedLogger {
  logger: ConsolaInstance
  lines: Array<{ level: string; message: string }>
}

export function capturedLogger(): CapturedLogger {
  const lines: Array<{ level: string; message: string }> = []
  const logger = createConsola({ level: 5, throttle: 0, reporters: [{ log: (entry) => void lines.push({ level: entry.type, message: entry.args.map(String).join(' ') }) }] })
  return { logger, lines }
}

/** Sets the plugin up on the core's plugin host; returns its teardown. */
export async function setUp(plugin: SluicePlugin, clock: Clock, logger: ConsolaInstance = capturedLogger().logger): Promise<() => Promise<void>> {
  const host = await startPluginHost([plugin], { clock, logger })
  return host.close
}
