/**
 * The governor on the testing kit's plugin harness (the core's own PluginHost), driven with a virtual clock:
 * `limit` runs the limit phase as the pipeline does (its settle function lands in `ctx.settles`), `finish` ends
 * the request as the pipeline does (settle functions, then record hooks).
 */
import { createConsola, type ConsolaInstance } from 'consola'
import { pluginHarness, type PluginHarness, type RecordInit } from '../../testing/index.ts'
import { governor, type GovernorOptions } from '../../plugins/governor/index.ts'
import { Context } from '../../core/context.ts'
import type { GatewayError } from '../../core/errors.ts'
import type { Clock, InboundApi, Principal, RequestRecord, SluicePlugin, Target } from '../../core/types.ts'

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

/** What a test says about a request; everything else is the kit's default chat request. */
export interface RequestInit {
  /** The caller's principal id (as the keys plugin would set it); none means anonymous. */
  key?: string
  /** `principal.limits`, deliberately loose: the governor must cope with junk in it. */
  limits?: Record<string, unknown>
  model?: string
  plan?: Target[]
  body?: Record<string, unknown>
  api?: InboundApi
  headers?: Record<string, string>
  signal?: AbortSignal
}

export interface GovernorRig {
  harness: PluginHarness
  clock: Clock
  /** A request context as the pipeline hands it to `limit`. */
  request(init?: RequestInit): Context
  /** Runs the limit phase: undefined when admitted, the GatewayError when refused. */
  limit(request?: Context | RequestInit): Promise<GatewayError | undefined>
  /** Ends a request as the pipeline does: its settle functions (once), then the record hooks. */
  finish(ctx: Context, init?: RecordInit): Promise<RequestRecord>
  close(): Promise<void>
}

const DEFAULT_MODEL = 'openai/gpt-4o-mini'

/**
 * The governor (plus any `others`, after it in config order) on the plugin harness. The clock is the gateway's,
 * so with no `clock` in the options the governor runs on it too.
 */
export async function startGovernor(
  options: GovernorOptions,
  env: { clock?: Clock; logger?: ConsolaInstance; others?: SluicePlugin[] } = {},
): Promise<GovernorRig> {
  const clock = env.clock ?? options.clock ?? virtualClock()
  const harness = await pluginHarness([governor(options), ...(env.others ?? [])], { clock, logger: env.logger })
  const request = (init: RequestInit = {}): Context => {
    const principal: Principal | undefined = init.key ? { id: init.key, ...(init.limits ? { limits: init.limits } : {}) } : undefined
    return harness.context({ model: init.model ?? DEFAULT_MODEL, body: init.body, plan: init.plan, api: init.api, headers: init.headers, signal: init.signal, principal })
  }
  return {
    harness,
    clock,
    request,
    limit: (given = {}) => harness.gate('limit', given instanceof Context ? given : request(given)),
    finish: (ctx, init) => harness.finish(ctx, init),
    close: () => harness.close(),
  }
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
