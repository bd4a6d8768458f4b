/**
 * Recording cost, in two parts, each against a baseline measured in the same run and printed as ratios.
 *
 * 1. Recorder: records/s through the usage recorder into SQLite and Postgres, against pushing the same records
 *    onto an in-memory array. `accept` is the cost on the request's side (the record hook's `add`), `durable`
 *    is records/s until every record is committed (adds plus the writer draining the queue and closing).
 * 2. Gateway: requests/s of whole gateways with recording off, into SQLite, and into Postgres, each gateway its
 *    own process (bench/configs/usage-bench.config.ts, which differs only by recording) in front of the bench
 *    mock, loaded by autocannon in its own process; rounds interleave the gateways so drift hits them alike.
 *    After the runs each gateway is stopped with SIGTERM and its store counted.
 *
 *   node --import jiti/register bench/recording.ts                       # both parts, SQLite only
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import jiti/register bench/recording.ts
 *   ... bench/recording.ts --gateway-only | --recorder-only
 *   env: RECORDS, BATCH (part 1); GATEWAY_SECONDS, CONNECTIONS, ROUNDS (part 2)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConsola } from 'consola'
import pg from 'pg'
import { realClock } from '../core/clock.ts'
import type { RequestRecord } from '../core/types.ts'
import { createPostgresStore } from '../plugins/usage/postgres-store.ts'
import { Recorder } from '../plugins/usage/recorder.ts'
import { createSqliteStore } from '../plugins/usage/sqlite-store.ts'
import type { UsageStore } from '../plugins/usage/store.ts'
import Database from 'better-sqlite3'
import { autocannon, type LoadResult, type Target } from './lib/load.ts'
import { startMock, startSluice, type Started } from './lib/processes.ts'
import { withCpu } from './lib/proc.ts'
import { fixed, ratio as times, table } from './lib/report.ts'

const N = Number(process.env.RECORDS ?? 50_000)
const BATCH = Number(process.env.BATCH ?? 200)
const logger = createConsola({ level: 1 })

function records(count: number, run: string): RequestRecord[] {
  const start = Date.now()
  return Array.from({ length: count }, (_, i) => ({
    id: `bench_${run}_${i}`, startedAt: start + i, endedAt: start + i + 400, api: 'openai-chat', stream: i % 2 === 0,
    requestedModel: 'openai/gpt-4o', provider: 'openai', upstreamModel: 'gpt-4o', principalId: `key_${i % 50}`,
    principalName: 'bench', tags: { team: 'bench' }, status: 200, outcome: 'ok',
    usage: { inputTokens: 1200, outputTokens: 300, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
    latencyMs: 400, ttfbMs: 90, attempts: 1, costUSD: 0.006,
  }))
}

function baseline(list: RequestRecord[]): number {
  const sink: RequestRecord[] = []
  const t0 = performance.now()
  for (const record of list) sink.push(record)
  const elapsed = performance.now() - t0
  if (sink.length !== list.length) throw new Error('baseline lost records')
  return list.length / (elapsed / 1000)
}

async function throughRecorder(store: UsageStore, list: RequestRecord[], spillFile: string) {
  const recorder = new Recorder({ store, spillFile, queueSize: list.length + 1, batchSize: BATCH, flushIntervalMs: 50, clock: realClock, logger })
  await recorder.start()
  const t0 = performance.now()
  for (const record of list) recorder.add(record)
  const accepted = performance.now()
  await recorder.close()
  const done = performance.now()
  const stats = recorder.stats()
  if (stats.written !== list.length) throw new Error(`expected ${list.length} written, got ${JSON.stringify(stats)}`)
  return { accept: list.length / ((accepted - t0) / 1000), durable: list.length / ((done - t0) / 1000) }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(14)
const ratio = (n: number, base: number) => `${(n / base).toFixed(4)}×`.padStart(10)

async function recorderPart() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'))
  const rows: Array<[string, number, number | undefined]> = []
  const run = Math.random().toString(36).slice(2, 8)
  // Warm the JIT on a small run first so the first measured store is not penalised.
  baseline(records(5_000, `${run}w`))
  await throughRecorder(createSqliteStore({ file: join(dir, 'warm.db') }), records(5_000, `${run}w`), join(dir, 'warm.jsonl'))

  const base = baseline(records(N, run))
  rows.push(['baseline (array push)', base, undefined])
  const sqlite = await throughRecorder(createSqliteStore({ file: join(dir, 'usage.db') }), records(N, `${run}s`), join(dir, 'spill.jsonl'))
  rows.push(['sqlite accept', sqlite.accept, undefined], ['sqlite durable', sqlite.durable, undefined])

  const url = process.env.DATABASE_URL
  if (url) {
    const schema = `sluice_bench_${run}`
    try {
      const pgStats = await throughRecorder(createPostgresStore({ url, schema }), records(N, `${run}p`), join(dir, 'spill-pg.jsonl'))
      rows.push(['postgres accept', pgStats.accept, undefined], ['postgres durable', pgStats.durable, undefined])
    } finally {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await client.end()
    }
  } else {
    console.log('DATABASE_URL not set: Postgres skipped')
  }
  rmSync(dir, { recursive: true, force: true })

  console.log(`\nrecording ${N.toLocaleString('en-US')} records, batch ${BATCH} (node ${process.version})`)
  console.log(`${'sink'.padEnd(24)}${'records/s'.padStart(14)}${'vs baseline'.padStart(12)}`)
  for (const [name, rate] of rows) console.log(`${name.padEnd(24)}${fmt(rate)}  ${ratio(rate, base)}`)
}

// ——— part 2: whole gateways, recording off vs on ———

const SECONDS = Number(process.env.GATEWAY_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const CONFIG = 'bench/configs/usage-bench.config.ts'

interface Variant {
  name: string
  env: Record<string, string>
  gateway?: Started
  results: Array<{ stream: boolean; load: LoadResult; cores: number }>
  stored?: () => Promise<number>
}

async function gatewayPart() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-gw-'))
  const run = Math.random().toString(36).slice(2, 8)
  const url = process.env.DATABASE_URL
  const schema = `sluice_bench_gw_${run}`
  const mock = await startMock()
  const upstream = { BENCH_UPSTREAM_URL: `${mock.url}/v1` }
  const variants: Variant[] = [
    { name: 'recording off', env: { USAGE_BENCH_RECORDING: 'off' }, results: [] },
    {
      name: 'usage → sqlite',
      env: { USAGE_BENCH_RECORDING: 'sqlite', USAGE_BENCH_SQLITE_FILE: join(dir, 'usage.db'), USAGE_BENCH_SPILL_FILE: join(dir, 'spill-sqlite.jsonl') },
      results: [],
      stored: async () => {
        const db = new Database(join(dir, 'usage.db'), { readonly: true })
        try {
          return (db.prepare('SELECT COUNT(*) AS n FROM usage_records').get() as { n: number }).n
        } finally {
          db.close()
        }
      },
    },
  ]
  if (url) {
    variants.push({
      name: 'usage → postgres',
      env: { USAGE_BENCH_RECORDING: 'postgres', DATABASE_URL: url, USAGE_BENCH_PG_SCHEMA: schema, USAGE_BENCH_SPILL_FILE: join(dir, 'spill-pg.jsonl') },
      results: [],
      stored: async () => {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        try {
          return Number((await client.query(`SELECT COUNT(*) AS n FROM "${schema}".usage_records`)).rows[0].n)
        } finally {
          await client.end()
        }
      },
    })
  } else {
    console.log('DATABASE_URL not set: the Postgres gateway is skipped')
  }
  try {
    for (const variant of variants) variant.gateway = await startSluice(CONFIG, { ...variant.env, ...upstream })
    const target = (variant: Variant): Target => ({ name: variant.name, url: variant.gateway!.url, headers: {}, pid: variant.gateway!.pid })
    // Warm-up: JIT, connection pools, the stores' first writes.
    for (const variant of variants) await autocannon(target(variant), { connections: CONNECTIONS, seconds: 2, stream: false })
    for (let round = 0; round < ROUNDS; round++) {
      for (const stream of [false, true]) {
        for (const variant of variants) {
          const pid = variant.gateway!.pid
          const { result, cores } = await withCpu({ gateway: pid }, () => autocannon(target(variant), { connections: CONNECTIONS, seconds: SECONDS, stream }))
          variant.results.push({ stream, load: result, cores: cores.gateway! })
        }
      }
    }
    for (const variant of variants) await variant.gateway!.stop() // SIGTERM: the recorder flushes before exit
    const baseline = variants[0]!
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
    const summary = (variant: Variant, stream: boolean) => {
      const runs = variant.results.filter((r) => r.stream === stream)
      return { rps: median(runs.map((r) => r.load.rps)), p99: median(runs.map((r) => r.load.p99)), cores: median(runs.map((r) => r.cores)), errors: runs.reduce((n, r) => n + r.load.errors + r.load.non2xx, 0) }
    }
    console.log(`\ngateway throughput, ${CONNECTIONS} connections, ${ROUNDS} × ${SECONDS}s per cell, median of rounds (node ${process.version})`)
    const rows: Array<Array<string | number>> = []
    for (const stream of [false, true]) {
      const base = summary(baseline, stream)
      for (const variant of variants) {
        const s = summary(variant, stream)
        rows.push([`${stream ? 'stream' : 'json'}  ${variant.name}`, fixed(s.rps), times(s.rps, base.rps), fixed(s.p99, 1), fixed(s.cores, 2), fixed((s.cores / s.rps) * 1e6, 1), s.errors])
      }
    }
    table(['scenario', 'req/s', 'vs off', 'p99 ms', 'gw cores', 'µs CPU/req', 'errors'], rows)
    for (const variant of variants) {
      if (variant.stored) console.log(`${variant.name}: ${(await variant.stored()).toLocaleString('en-US')} records stored`)
    }
  } finally {
    for (const variant of variants) await variant.gateway?.stop()
    await mock.stop()
    if (url) {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await client.end()
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main() {
  const args = process.argv.slice(2)
  if (!args.includes('--gateway-only')) await recorderPart()
  if (!args.includes('--recorder-only')) await gatewayPart()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
