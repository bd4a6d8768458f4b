/**
 * Should usage rows be written by a worker thread that owns SQLite? Inserts the same records in batches of 100 both
 * ways and prints, per record: the whole process's CPU (what the bench's "gateway CPU per request" counts) and the
 * main thread's busy time (what a request's event loop pays), median of rounds.
 *
 *   node --import jiti/register bench/sqlite-thread.ts
 */
import { Worker } from 'node:worker_threads'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteStore } from '../plugins/usage/sqlite-store.ts'
import { COLUMNS, recordValues } from '../plugins/usage/store.ts'

const N = 20_000
const BATCH = 100
const ROUNDS = 5
const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-thread-'))
let seq = 0
const record = () => ({ id: `r${++seq}`, startedAt: Date.now(), endedAt: Date.now() + 5, principalId: 'k1', principalName: 'bench', requestedModel: 'gpt-4o', provider: 'openai', upstreamModel: 'gpt-4o', api: 'openai-chat', stream: false, status: 200, outcome: 'ok', usage: { inputTokens: 10, outputTokens: 20, cachedTokens: 0, reasoningTokens: 0, estimated: false }, costUSD: 0.001, latencyMs: 5, ttfbMs: 3, attempts: 1, tags: {} }) as any
const batches = () => Array.from({ length: N / BATCH }, () => Array.from({ length: BATCH }, record))
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function onMainThread(round: number) {
  const store = createSqliteStore({ file: join(dir, `main-${round}.db`) })
  await store.open()
  const work = batches()
  const cpu = process.cpuUsage()
  let busy = 0
  for (const batch of work) {
    const start = performance.now()
    await store.insert(batch)
    busy += performance.now() - start
  }
  const used = process.cpuUsage(cpu)
  await store.close()
  return { cpu: (used.user + used.system) / N, busy: (busy * 1000) / N }
}

async function onWorker(round: number) {
  const file = join(dir, `thread-${round}.db`)
  const store = createSqliteStore({ file }) // creates the schema
  await store.open()
  await store.close()
  const insert = `INSERT INTO usage_records (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`
  const worker = new Worker(new URL('./sqlite-writer-thread.mjs', import.meta.url), { workerData: { file, insert } })
  await new Promise((resolve) => worker.once('online', resolve))
  const work = batches()
  const cpu = process.cpuUsage()
  let busy = 0
  let pending = 0
  let drained: (() => void) | undefined
  worker.on('message', () => { if (--pending === 0) drained?.() })
  for (const batch of work) {
    const start = performance.now()
    worker.postMessage(batch.map(recordValues))
    busy += performance.now() - start
    pending++
    await new Promise((resolve) => setImmediate(resolve))
  }
  if (pending) await new Promise<void>((resolve) => { drained = resolve })
  const used = process.cpuUsage(cpu)
  await worker.terminate()
  return { cpu: (used.user + used.system) / N, busy: (busy * 1000) / N }
}

const main: Array<{ cpu: number; busy: number }> = []
const thread: Array<{ cpu: number; busy: number }> = []
for (let round = 0; round < ROUNDS; round++) {
  main.push(await onMainThread(round))
  thread.push(await onWorker(round))
}
rmSync(dir, { recursive: true, force: true })
const show = (name: string, rows: Array<{ cpu: number; busy: number }>) =>
  console.log(`${name}  process CPU ${median(rows.map((r) => r.cpu)).toFixed(1)} µs/record   main thread busy ${median(rows.map((r) => r.busy)).toFixed(1)} µs/record`)
console.log(`usage rows, ${N} records in batches of ${BATCH}, median of ${ROUNDS} rounds:`)
show('main thread (today)', main)
show('worker thread      ', thread)
