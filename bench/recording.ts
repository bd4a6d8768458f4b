/**
 * Recording throughput: records/s through the usage recorder into SQLite and Postgres, against a baseline
 * (pushing the same records onto an in-memory array) measured in the same run, printed as ratios.
 *
 *   node --import jiti/register bench/recording.ts            # SQLite only
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import jiti/register bench/recording.ts
 *
 * Two numbers per store: `accept` is the cost on the request's side (the record hook's `add`), `durable` is
 * records/s until every record is committed (adds plus the writer draining the queue and closing).
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

const N = Number(process.env.RECORDS ?? 50_000)
const BATCH = Number(process.env.BATCH ?? 200)
const logger = createConsola({ level: 1 })

function records(count: number, run: string): RequestRecord[] {
  const start = Date.now()
  return Array.from({ length: count }, (_, i) => ({
    id: `bench_${run}_${i}`, startedAt: start + i, endedAt: start + i + 400, api: 'openai-chat', stream: i % 2 === 0,
    requestedModel: 'openai/gpt-4o', provider: 'openai', upstreamModel: 'gpt-4o', principalId: `key_${i % 50}`,
    principalName: 'bench', tags: { team: 'bench' }, status: 200, outcome: 'ok',
    usage: { inputTokens: 1200, outputTokens: 300, cachedTokens: 0, reasoningTokens: 0, estimated: false },
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

async function main() {
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

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
