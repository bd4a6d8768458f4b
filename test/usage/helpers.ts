/** Test helpers for the usage and metrics plugins: a hand-built plugin host, records, contexts and a manual clock. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConsola, type LogObject } from 'consola'
import { createStorage } from 'unstorage'
import { H3 } from 'h3'
import { createAdminMount } from '../../core/admin.ts'
import type {
  Clock, GatewayHooks, HookName, InboundApi, PluginContext, RequestContext, RequestRecord, Services, SluicePlugin, Usage,
} from '../../core/types.ts'

export const ADMIN_KEY = 'test-admin-key'

/** A clock whose sleeps resolve only when the test advances it: no real waiting, no stray timer firing. */
export class ManualClock implements Clock {
  time = Date.UTC(2025, 10, 20, 12, 0, 0)
  #timers: Array<{ due: number; resolve: () => void }> = []
  now = () => this.time
  random = () => 0.5
  sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = { due: this.time + ms, resolve }
    this.#timers.push(timer)
    signal?.addEventListener('abort', () => {
      this.#timers = this.#timers.filter((t) => t !== timer)
      reject(signal.reason)
    }, { once: true })
  })
  advance(ms: number) {
    this.time += ms
    const due = this.#timers.filter((t) => t.due <= this.time)
    this.#timers = this.#timers.filter((t) => t.due > this.time)
    for (const timer of due) timer.resolve()
  }
  get pending() {
    return this.#timers.length
  }
}

export function testLogger() {
  const logs: LogObject[] = []
  const logger = createConsola({ level: 5, throttle: 0, reporters: [{ log: (entry) => { logs.push(entry) } }] })
  return { logger, logs }
}

export function tempDir(prefix = 'sluice-usage-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A minimal plugin host: sorts by order like the core, runs setups, keeps services, mounts admin routes behind
 * ADMIN_KEY with the core's own guard, and calls `record` hooks in order without awaiting them (as the core does).
 */
export async function startPlugins(plugins: SluicePlugin[], options: { clock?: Clock } = {}) {
  const { logger, logs } = testLogger()
  const app = new H3()
  const storage = createStorage()
  const services = new Map<string, unknown>()
  const clock = options.clock ?? new ManualClock()
  const admin = createAdminMount(app, ADMIN_KEY, logger)
  const order = (p: SluicePlugin) => p.order ?? (p.enforce === 'pre' ? -100 : p.enforce === 'post' ? 100 : 0)
  const sorted = plugins.map((plugin, index) => ({ plugin, index }))
    .sort((a, b) => order(a.plugin) - order(b.plugin) || a.index - b.index).map(({ plugin }) => plugin)
  const extraHooks: Array<{ name: HookName; fn: any }> = []
  const teardowns: Array<() => unknown> = []
  for (const plugin of sorted) {
    const gw: PluginContext = {
      name: plugin.name,
      logger: logger.withTag(plugin.name),
      storage,
      rootStorage: storage,
      app,
      clock,
      hook(name, fn) {
        const entry = { name, fn }
        extraHooks.push(entry)
        return () => extraHooks.splice(extraHooks.indexOf(entry), 1)
      },
      registerProvider() {},
      getProvider: () => undefined,
      addModels() {},
      admin: admin.mount,
      provide: (name, value) => { services.set(name, value) },
      inject: <K extends keyof Services>(name: K) => services.get(name) as Services[K] | undefined,
      plugins: () => [],
      onReady: () => {},
    }
    const teardown = await plugin.setup?.(gw)
    if (typeof teardown === 'function') teardowns.push(teardown)
  }
  const hooksOf = <N extends HookName>(name: N): GatewayHooks[N][] => [
    ...sorted.map((p) => p.hooks?.[name]).filter((fn): fn is GatewayHooks[N] => typeof fn === 'function'),
    ...extraHooks.filter((h) => h.name === name).map((h) => h.fn),
  ]
  return {
    app,
    services,
    clock,
    logs,
    inject: <K extends keyof Services>(name: K) => services.get(name) as Services[K] | undefined,
    /** Like the core: each record hook called in order, promises collected (the core does not await them). */
    record(record: RequestRecord, ctx: RequestContext): Promise<unknown> {
      const pending: unknown[] = []
      for (const hook of hooksOf('record')) pending.push(hook(record, ctx))
      return Promise.allSettled(pending)
    },
    streamTransforms(ctx: RequestContext) {
      return hooksOf('stream').map((hook) => hook(ctx)).filter((t) => typeof t === 'function')
    },
    adminRequest(path: string, init: RequestInit = {}) {
      return app.request(path, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(init.headers as any) } })
    },
    async stop() {
      for (const teardown of teardowns.reverse()) await teardown()
    },
  }
}

let seq = 0
const runId = Math.random().toString(36).slice(2, 8)

export function usage(overrides: Partial<Usage> = {}): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, reasoningTokens: 0, estimated: false, ...overrides }
}

export function makeRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  const startedAt = overrides.startedAt ?? Date.UTC(2025, 10, 20, 12, 0, 0) + seq * 1000
  return {
    id: `req_${runId}_${++seq}`,
    startedAt,
    endedAt: startedAt + 420,
    api: 'openai-chat',
    stream: false,
    requestedModel: 'openai/gpt-4o',
    provider: 'openai',
    upstreamModel: 'gpt-4o',
    principalId: 'key_a',
    principalName: 'team a',
    tags: { team: 'a' },
    status: 200,
    outcome: 'ok',
    usage: usage({ inputTokens: 100, outputTokens: 50 }),
    latencyMs: 420,
    ttfbMs: 120,
    attempts: 1,
    costUSD: 0.00075,
    ...overrides,
  }
}

export function makeContext(overrides: Partial<RequestContext> & { api?: InboundApi } = {}): RequestContext {
  return {
    id: `req_${runId}_${++seq}`,
    request: new Request('http://gateway.test/v1/chat/completions', { method: 'POST' }),
    api: 'openai-chat',
    body: { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Say hello.' }] },
    model: 'openai/gpt-4o',
    stream: false,
    clientWantsStreamUsage: false,
    plan: [],
    signal: new AbortController().signal,
    usage: usage(),
    responseHeaders: new Headers(),
    state: {},
    startedAt: Date.UTC(2025, 10, 20, 12, 0, 0),
    attempts: 0,
    ...overrides,
  } as RequestContext
}

/** The record the core would build from a context. */
export function recordFrom(ctx: RequestContext, status: number, outcome: string): RequestRecord {
  return {
    id: ctx.id,
    startedAt: ctx.startedAt,
    endedAt: ctx.startedAt + 500,
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
    usage: ctx.usage,
    latencyMs: 500,
    ttfbMs: ctx.firstByteAt === undefined ? undefined : ctx.firstByteAt - ctx.startedAt,
    attempts: ctx.attempts,
  }
}

/** Reads an SSE response body until `predicate` holds for the text so far. */
export async function readUntil(stream: ReadableStream<Uint8Array>, predicate: (text: string) => boolean): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!predicate(text)) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  return { text, reader }
}

/** Turns the event loop until `predicate` holds (bounded by turns, not time). */
export async function settle(predicate: () => boolean, turns = 1000): Promise<void> {
  for (let i = 0; i < turns && !predicate(); i++) await new Promise((resolve) => setImmediate(resolve))
  if (!predicate()) throw new Error('condition not reached')
}
