/** Test helpers for the usage and metrics plugins: the core's plugin host, records, contexts and a manual clock. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConsola, type LogObject } from 'consola'
import { startPluginHost, TEST_ADMIN_KEY } from '../helpers/plugin-host.ts'
import { recordOf } from '../../core/context.ts'
import type { Clock, InboundApi, RequestContext, RequestRecord, Services, SluicePlugin, Usage } from '../../core/types.ts'

export const ADMIN_KEY = TEST_ADMIN_KEY

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
 * The plugins on the core's own plugin host (test/helpers/plugin-host.ts); `record` calls the record hooks in
 * order without awaiting them, as the pipeline does, and collects their promises.
 */
export async function startPlugins(plugins: SluicePlugin[], options: { clock?: Clock } = {}) {
  const clock = options.clock ?? new ManualClock()
  const host = await startPluginHost(plugins, { clock })
  return {
    app: host.app,
    services: host.services,
    clock,
    logs: host.logs,
    inject: <K extends keyof Services>(name: K) => host.services.get(name) as Services[K] | undefined,
    record(record: RequestRecord, ctx: RequestContext): Promise<unknown> {
      return Promise.allSettled(host.hooksOf('record').map((hook) => hook(record, ctx)))
    },
    streamTransforms(ctx: RequestContext) {
      return host.hooksOf('stream').map((hook) => hook(ctx)).filter((t) => typeof t === 'function')
    },
    adminRequest: host.adminRequest,
    stop: host.close,
  }
}

let seq = 0
const runId = Math.random().toString(36).slice(2, 8)

export function usage(overrides: Partial<Usage> = {}): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false, ...overrides }
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
  return recordOf(ctx, status, outcome, ctx.startedAt + 500)
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
