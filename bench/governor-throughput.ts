/**
 * Gateway throughput with the governor on (memory store, Redis store) against the same gateway with it off,
 * each gateway its own process in front of the bench mock, autocannon its own process. Limits never reject
 * (bench/configs/governor-bench.config.ts), so every request does the governor's full work: a decision in
 * `limit` (requests, tokens, a concurrency slot, a model rule) and a settle in `record`.
 *
 *   node --import jiti/register bench/governor-throughput.ts [--quick]   (REDIS_URL, default redis://127.0.0.1:6379)
 *
 * Runs are interleaved (off, memory, redis, off, …) so drift in the machine hits every side alike; the
 * median requests/s of each side is printed with its ratio to "off", and the gateway's CPU per request.
 */
import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { Redis } from 'ioredis'
import { autocannon, median, type LoadResult, type Target } from './lib/load.ts'
import { startMock, startSluice, type Started } from './lib/processes.ts'
import { withCpu } from './lib/proc.ts'
import { fixed, ratio, table } from './lib/report.ts'

const quick = process.argv.includes('--quick')
const settings = quick ? { rounds: 3, seconds: 3, connections: 32 } : { rounds: 5, seconds: 6, connections: 64 }
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sluice-bench:governor:${randomUUID()}:`
const SIDES = ['off', 'memory', 'redis'] as const
type Side = (typeof SIDES)[number]

interface Run {
  load: LoadResult
  /** Gateway CPU (core-seconds) per 1000 requests. */
  cpuMsPerRequest: number
}

const started: Started[] = []

async function main(): Promise<void> {
  console.log(`governor throughput: ${settings.rounds} interleaved rounds × ${settings.seconds} s, ${settings.connections} connections, ${os.cpus().length} CPUs, load ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`)
  const mock = await startMock()
  started.push(mock)
  const env = (store: Side) => ({
    BENCH_UPSTREAM_URL: `${mock.url}/v1`,
    BENCH_UPSTREAM_CONNECTIONS: '4096',
    SLUICE_GOV_BENCH_STORE: store,
    SLUICE_GOV_BENCH_REDIS_URL: redisUrl,
    SLUICE_GOV_BENCH_PREFIX: prefix,
  })
  const gateways = await Promise.all(SIDES.map((side) => startSluice('bench/configs/governor-bench.config.ts', env(side))))
  started.push(...gateways)
  const targets = new Map<Side, Target>(SIDES.map((side, i) => [side, { name: side, url: gateways[i]!.url, headers: {}, pid: gateways[i]!.pid }]))

  // Warm-up: JIT, connection pools, the Redis script cache.
  for (const side of SIDES) await autocannon(targets.get(side)!, { connections: settings.connections, seconds: 1, stream: false })

  const runs = new Map<Side, Run[]>(SIDES.map((side) => [side, []]))
  for (let round = 0; round < settings.rounds; round++) {
    for (const side of SIDES) {
      const target = targets.get(side)!
      const { result, cores, seconds } = await withCpu({ gateway: target.pid! }, () =>
        autocannon(target, { connections: settings.connections, seconds: settings.seconds, stream: false }),
      )
      if (result.non2xx || result.errors) throw new Error(`${side}: ${result.non2xx} non-2xx and ${result.errors} errors: the limits were meant never to reject`)
      runs.get(side)!.push({ load: result, cpuMsPerRequest: (cores.gateway! * seconds * 1000) / Math.max(1, result.total) })
    }
  }

  const summary = new Map(SIDES.map((side) => {
    const list = runs.get(side)!
    return [side, {
      rps: median(list.map((r) => r.load.rps)),
      p50: median(list.map((r) => r.load.p50)),
      p99: median(list.map((r) => r.load.p99)),
      cpu: median(list.map((r) => r.cpuMsPerRequest)),
      loadgen: Math.max(...list.map((r) => r.load.loadgenCores)),
    }]
  }))
  const off = summary.get('off')!
  console.log()
  table(
    ['governor', 'req/s (median)', 'vs off', 'p50 ms', 'p99 ms', 'gateway CPU µs/req', 'vs off', 'loadgen cores (max)'],
    SIDES.map((side) => {
      const s = summary.get(side)!
      return [side, fixed(s.rps), ratio(s.rps, off.rps), fixed(s.p50, 1), fixed(s.p99, 1), fixed(s.cpu * 1000), ratio(s.cpu, off.cpu), fixed(s.loadgen, 2)]
    }),
  )
  console.log()
  console.log(`throughput ratio memory/off: ${ratio(summary.get('memory')!.rps, off.rps)}   redis/off: ${ratio(summary.get('redis')!.rps, off.rps)}`)
  console.log(`per-run req/s: ${SIDES.map((side) => `${side} [${runs.get(side)!.map((r) => fixed(r.load.rps)).join(', ')}]`).join('  ')}`)
}

async function cleanUp(): Promise<void> {
  await Promise.all(started.map((s) => s.stop()))
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await client.connect()
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length) await client.del(...keys)
    } while (cursor !== '0')
  } catch {
    // Redis unreachable: nothing of ours to clean.
  } finally {
    client.disconnect()
  }
}

try {
  await main()
} finally {
  await cleanUp()
}
