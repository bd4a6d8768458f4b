/**
 * Test helpers for the usage and metrics plugins: thin wrappers over the testing kit (`sluice/testing`), records
 * for the stores, a manual clock, and small provider plugins that stream without reporting usage.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConsola, type LogObject } from 'consola'
import { onTestFinished } from 'vitest'
import { collectDeltas } from '../../core/index.ts'
import type { Clock, ProviderRequest, RequestRecord, Services, SluicePlugin, StreamDelta, Target, Usage, WireFormat } from '../../core/index.ts'
import type { Context } from '../../core/context.ts'
import { pluginHarness, testContext, TEST_ADMIN_KEY, type RecordInit, type TestContextInit, type TestGateway } from '../../testing/index.ts'

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
 * The plugins on the kit's plugin harness (the core's own plugin host), on a manual clock; closed when the test
 * ends. `finishRequest` ends a request the way the pipeline does (settle functions, then every `record` hook
 * with the one final record); usage and cost are given as the core would have completed and priced them.
 */
export async function startPlugins(plugins: SluicePlugin[], options: { clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock()
  const harness = await pluginHarness(plugins, { clock })
  onTestFinished(() => harness.close())
  return {
    ...harness,
    clock,
    inject: <K extends keyof Services>(name: K) => harness.services.get(name) as Services[K] | undefined,
    /** A request that ran `latencyMs` (on the manual clock) and ended now: its final record, after every record hook saw it. */
    finishRequest(init: FinishedRequest = {}): Promise<RequestRecord> {
      const { status, outcome, usage, costUSD, latencyMs = 420, ...context } = init
      return harness.finish(makeContext({ now: clock.now() - latencyMs, ...context }), { status, outcome, usage, costUSD })
    },
  }
}

export interface ContextInit extends TestContextInit {
  /** The target that answered (absent: no upstream was reached). */
  target?: Target
  /** Upstream attempts (default: 1 with a target, else 0). */
  attempts?: number
  /** When the first byte went out, in ms after the start. */
  ttfbMs?: number
}

export type FinishedRequest = ContextInit & RecordInit & { latencyMs?: number }

/** The kit's request context, with what the pipeline fills in while a request runs (target, attempts, first byte). */
export function makeContext(init: ContextInit = {}): Context {
  const { target, attempts, ttfbMs, ...context } = init
  const ctx = testContext({ model: 'openai/gpt-4o', ...context })
  ctx.target = target
  ctx.attempts = attempts ?? (target ? 1 : 0)
  if (ttfbMs !== undefined) ctx.firstByteAt = ctx.startedAt + ttfbMs
  return ctx
}

/** Typed access to a service a plugin provides, on a harness or a test gateway. */
export function serviceOf<K extends keyof Services>(from: TestGateway | { services: Map<string, unknown> }, name: K): Services[K] {
  const services = 'gateway' in from ? from.gateway.host.services : from.services
  const service = services.get(name)
  if (!service) throw new Error(`no plugin provides "${name}"`)
  return service as Services[K]
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

/**
 * A provider plugin that answers with these deltas (the neutral view): a stream of them, or for a non-stream
 * request the response they make up. Unlike the kit's scriptedProvider it sends usage only when a delta says so,
 * so it stands for the providers that report none. `thenHang`: after the deltas, wait for the client to leave.
 */
export function deltaProvider(options: { name: string; format?: WireFormat; deltas: StreamDelta[]; thenHang?: boolean }): SluicePlugin & { calls: ProviderRequest[] } {
  const calls: ProviderRequest[] = []
  async function* play(signal: AbortSignal): AsyncGenerator<StreamDelta> {
    yield* options.deltas
    if (options.thenHang) {
      await new Promise((_, reject) => {
        if (signal.aborted) return reject(signal.reason)
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    }
  }
  const plugin: SluicePlugin = {
    name: `delta-provider-${options.name}`,
    setup(gw) {
      gw.registerProvider({
        name: options.name,
        formats: [options.format ?? 'openai-chat'],
        async call(request) {
          calls.push(request)
          const headers = new Headers()
          const format = options.format ?? 'openai-chat'
          return request.stream
            ? { status: 200, headers, format, deltas: play(request.signal) }
            : { status: 200, headers, format, output: collectDeltas(options.deltas) }
        },
      })
    },
  }
  return Object.defineProperty(plugin, 'calls', { value: calls, enumerable: false }) as SluicePlugin & { calls: ProviderRequest[] }
}

/** The deltas of a short answer: `pieces` of text, a finish, and no usage. */
export function textDeltas(pieces: string[]): StreamDelta[] {
  return [{ type: 'start', id: 'answer-1' }, ...pieces.map((text): StreamDelta => ({ type: 'text', text })), { type: 'finish', reason: 'stop' }]
}

/**
 * A provider plugin that streams these SSE `data` payloads as raw bytes in OpenAI chat's format: the client
 * (speaking the same format) gets them passed through, and observers see them decoded into deltas.
 */
export function sseProvider(name: string, payloads: unknown[]): SluicePlugin {
  const bytes = new TextEncoder().encode(payloads.map((data) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`).join(''))
  return {
    name: `sse-provider-${name}`,
    setup(gw) {
      gw.registerProvider({
        name,
        formats: ['openai-chat'],
        async call() {
          async function* stream() { yield bytes }
          return { status: 200, headers: new Headers({ 'content-type': 'text/event-stream' }), format: 'openai-chat', stream: stream() }
        },
      })
    },
  }
}

/** OpenAI chat stream payloads for `pieces` of text, without a usage chunk. */
export function openaiChunks(pieces: string[]): unknown[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] })
  return [...pieces.map((content) => chunk({ content })), chunk({}, 'stop'), '[DONE]']
}
