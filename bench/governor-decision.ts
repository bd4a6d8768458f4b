/**
 * Cost of one governor decision (the `limit` hook, plus the settle function it returns), memory and Redis,
 * against a baseline measured in the same run: an empty async function call. The governor runs on the testing
 * kit's plugin harness (the core's own plugin host); its limit hook is called as the pipeline binds it.
 *
 *   node --import jiti/register bench/governor-decision.ts        (REDIS_URL defaults to redis://127.0.0.1:6379)
 *
 * Each case runs in batches; the per-operation time of every batch is kept and the median printed, with its
 * ratio to the baseline's median. Every operation gets a fresh request context: the core's own Context class,
 * as the pipeline builds it, over one shared web Request (a kit `testContext` builds a Request with a body
 * per call, 50-300 µs on Node 20: it would swamp the decision measured here). Its cost alone is printed too.
 */
import { randomUUID } from 'node:crypto'
import { createConsola } from 'consola'
import { Redis } from 'ioredis'
import { realClock } from '../core/clock.ts'
import { Context } from '../core/context.ts'
import type { GatewayHooks, RequestRecord, Settle } from '../core/types.ts'
import { governor, type GovernorOptions } from '../plugins/governor/index.ts'
import { pluginHarness } from '../testing/index.ts'

const BATCHES = 15
const KEYS = 10_000
const BODY = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Summarise the plot of Hamlet in two sentences.' }], max_tokens: 256 }
const PLAN = [{ provider: 'openai', model: 'gpt-4o-mini' }]

const REQUEST = new Request('http://sluice.bench/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' } })
const SIGNAL = new AbortController().signal
const bodyAlreadyRead = async () => {}

function ctxFor(i: number): Context {
  const ctx = new Context(`bench_${i}`, REQUEST, 'openai-chat', SIGNAL, 0, bodyAlreadyRead)
  ctx.body = BODY
  ctx.model = BODY.model
  ctx.principal = { id: `key-${i % KEYS}` }
  ctx.plan = PLAN
  return ctx
}

function recordFor(ctx: Context): RequestRecord {
  return {
    id: ctx.id, startedAt: 0, endedAt: 1, api: ctx.api, stream: false, requestedModel: ctx.model, status: 200, outcome: 'ok',
    usage: { inputTokens: 20, outputTokens: 100, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }, latencyMs: 1, attempts: 1,
  }
}

/** Calls the limit hook and the settle function it returned (if any) with the request's record. */
async function limitAndSettle(limit: GatewayHooks['limit'], ctx: Context): Promise<void> {
  const settle = (await limit(ctx)) as Settle | void
  if (settle) await settle(recordFor(ctx))
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Median ns per operation over BATCHES batches of `perBatch` sequential operations. */
async function measure(perBatch: number, op: (i: number) => unknown): Promise<number> {
  const samples: number[] = []
  let i = 0
  for (let warm = 0; warm < perBatch * 3; warm++) await op(i++)
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint()
    for (let n = 0; n < perBatch; n++) await op(i++)
    samples.push(Number(process.hrtime.bigint() - start) / perBatch)
  }
  return median(samples)
}

/** Median ns per operation with `parallel` operations in flight (throughput view). */
async function measureParallel(perBatch: number, parallel: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = []
  let i = 0
  const batch = async () => {
    let next = 0
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next++ < perBatch) await op(i++)
    }))
  }
  await batch()
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint()
    await batch()
    samples.push(Number(process.hrtime.bigint() - start) / perBatch)
  }
  return median(samples)
}

/** The governor set up on the plugin harness; its limit hook as the pipeline calls it. */
async function plugin(options: GovernorOptions): Promise<{ limit: GatewayHooks['limit']; close: () => Promise<void> }> {
  const harness = await pluginHarness([governor(options)], { clock: realClock, logger: createConsola({ level: -999 }) })
  return { limit: harness.hooksOf('limit')[0]!, close: harness.close }
}

const rules: Omit<GovernorOptions, 'store'> = {
  perKey: { rpm: 1e9, tpm: 1e12, maxConcurrent: 1e6 },
  rules: [{ scope: 'model', rpm: 1e9 }, { scope: 'global', rps: 1e9 }],
}

function row(name: string, ns: number, baseline: number): void {
  const us = (ns / 1000).toFixed(2).padStart(8)
  console.log(`${name.padEnd(52)} ${us} µs   ${(ns / baseline).toFixed(1).padStart(7)}× baseline`)
}

async function main(): Promise<void> {
  const noop = async (_i: number) => {}
  const baseline = await measure(200_000, noop)
  console.log(`governor decision cost: median of ${BATCHES} batches; 4 rules per request (key rpm+tpm+concurrency, model rpm, global rps), ${KEYS} keys`)
  console.log(`${'baseline: await an empty async function'.padEnd(52)} ${(baseline / 1000).toFixed(3).padStart(8)} µs`)

  const memory = await plugin({ store: 'memory', ...rules })
  row('memory: limit (await)', await measure(50_000, (i) => memory.limit(ctxFor(i))), baseline)
  row('memory: limit + settle (await)', await measure(50_000, (i) => limitAndSettle(memory.limit, ctxFor(i))), baseline)
  row('context construction alone (included above)', await measure(50_000, (i) => ctxFor(i)), baseline)
  await memory.close()

  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false })
  try {
    await probe.connect()
    await probe.ping()
  } catch {
    console.log(`redis: ${url} unreachable, Redis cases skipped`)
    probe.disconnect()
    return
  }
  const prefix = `sluice-bench:gov:${randomUUID()}:`
  const redis = await plugin({ store: { redis: url, prefix }, ...rules })
  const ping = await measure(2_000, () => probe.ping())
  row('redis: PING round trip (reference)', ping, baseline)
  row('redis: limit, one at a time (latency)', await measure(2_000, (i) => redis.limit(ctxFor(i))), baseline)
  row('redis: limit + settle, one at a time', await measure(1_000, (i) => limitAndSettle(redis.limit, ctxFor(i))), baseline)
  row('redis: limit, 64 in flight (per decision)', await measureParallel(5_000, 64, async (i) => redis.limit(ctxFor(i))), baseline)
  await redis.close()
  let cursor = '0'
  do {
    const [next, keys] = await probe.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length) await probe.del(...keys)
  } while (cursor !== '0')
  await probe.quit()
}

await main()
