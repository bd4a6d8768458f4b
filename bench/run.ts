/**
 * `npm run bench [-- --quick] [-- --profile]`: Sluice (minimal config and full pipeline), a bare Node proxy (the floor) and the peer (Portkey)
 * against the same mock upstream reached directly, in one run, so every figure is printed as a ratio to a
 * baseline measured alongside it. Each server and the load generator run in their own processes.
 *
 *   --quick     shorter runs, 32 connections only, smaller streams (under a minute)
 *   --profile   instead of the scenarios: CPU-profile the gateway under load (see bench/profile.ts)
 *   --no-peer   skip Portkey
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { join } from 'node:path'
import { node, startMock, startProcess, startSluice, type Started } from './lib/processes.ts'
import { autocannon, sequentialLatency, type LatencySummary, type LoadResult, type Target } from './lib/load.ts'
import { startPeer, peerHeaders, PEER } from './lib/peer.ts'
import { bigStream, openStreams } from './lib/streams.ts'
import { mb, withCpu } from './lib/proc.ts'
import { fixed, printGoals, ratio, table, type Goal } from './lib/report.ts'
import { profile } from './profile.ts'

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const withPeer = !argv.includes('--no-peer')
const settings = quick
  ? { seconds: 3, connections: [32], rounds: 5, perRound: 100, ttfbRounds: 5, ttfbPerRound: 40, bigMB: 20, openStreams: 200 }
  : { seconds: 8, connections: [32, 128], rounds: 15, perRound: 200, ttfbRounds: 11, ttfbPerRound: 100, bigMB: 100, openStreams: 1000 }
/** A process using this much of a core was the bottleneck of its run. */
const SATURATED = 0.9

const started: Started[] = []
const scratch = mkdtempSync(join(os.tmpdir(), 'sluice-bench-'))
const benchKey = `sk-bench-${randomBytes(24).toString('hex')}`

function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(2)).join(' ')
}

async function keep(promise: Promise<Started>): Promise<Started> {
  const child = await promise
  started.push(child)
  return child
}

async function startGateways(mock: Started) {
  const env = { BENCH_UPSTREAM_URL: `${mock.url}/v1`, BENCH_UPSTREAM_CONNECTIONS: '4096', BENCH_KEY: benchKey, BENCH_SCRATCH: scratch }
  const [bare, minimal, full] = await Promise.all([
    keep(startProcess(node, ['--import', 'jiti/register', 'bench/bare-proxy.ts', `${mock.url}/v1`])),
    keep(startSluice('bench/configs/minimal.config.ts', env)),
    keep(startSluice('bench/configs/full.config.ts', env)),
  ])
  const plugins = /bench-full-plugins: ([^\n]*)/.exec(full.output)?.[1] ?? '?'
  console.log(`full pipeline plugins: ${plugins}`)
  const targets: Target[] = [
    { name: 'direct', url: mock.url, headers: {}, pid: undefined },
    { name: 'bare-proxy', url: bare.url, headers: {}, pid: bare.pid },
    { name: 'sluice-minimal', url: minimal.url, headers: {}, pid: minimal.pid },
    { name: 'sluice-full', url: full.url, headers: plugins.includes('keys') ? { authorization: `Bearer ${benchKey}` } : {}, pid: full.pid },
  ]
  if (withPeer) {
    const peer = await startPeer()
    if (typeof peer === 'string') {
      console.log(`peer skipped: ${PEER} could not be started (${peer})`)
    } else {
      started.push(peer)
      targets.push({ name: 'portkey', url: peer.url, headers: peerHeaders(mock.url), pid: peer.pid })
      console.log(`peer: ${PEER} (hono 4.9.7, @hono/node-server 1.13.5) at ${peer.url}`)
    }
  } else {
    console.log('peer skipped (--no-peer)')
  }
  return targets
}

const find = (targets: Target[], name: string) => targets.find((t) => t.name === name)

async function throughput(mock: Started, targets: Target[]) {
  const results = new Map<string, LoadResult>()
  for (const connections of settings.connections) {
    for (const stream of [false, true]) {
      const label = `${connections}c-${stream ? 'stream' : 'json'}`
      console.log(`\n## Throughput, ${connections} connections, ${stream ? 'stream' : 'non-stream'} (${settings.seconds} s each)`)
      const rows: Array<Array<string | number>> = []
      const notes: string[] = []
      for (const target of targets) {
        const pids: Record<string, number> = { mock: mock.pid, ...(target.pid && { gateway: target.pid }) }
        const { result, cores, seconds } = await withCpu(pids, () => autocannon(target, { connections, seconds: settings.seconds, stream }))
        const perRequest = (cores: number | undefined) => (cores === undefined ? '' : fixed((cores * seconds * 1e6) / result.total))
        results.set(`${label}:${target.name}`, result)
        const direct = results.get(`${label}:direct`)!
        const bare = results.get(`${label}:bare-proxy`)
        const peer = results.get(`${label}:portkey`)
        rows.push([target.name, fixed(result.rps), fixed(result.p50), fixed(result.p99), result.errors + result.non2xx, ratio(result.rps, direct.rps), target.name === 'direct' ? '' : ratio(result.rps, bare?.rps), target.name === 'portkey' ? '' : ratio(result.rps, peer?.rps), fixed(cores.mock!, 2), cores.gateway === undefined ? '' : fixed(cores.gateway, 2), fixed(result.loadgenCores, 2), perRequest(cores.gateway)])
        if (result.loadgenCores >= SATURATED) notes.push(`${target.name}: autocannon used ${result.loadgenCores.toFixed(2)} cores — this run was load-generator-bound`)
        if (cores.mock! >= SATURATED) notes.push(`${target.name}: the mock used ${cores.mock!.toFixed(2)} cores — this run was mock-bound`)
        if (result.errors + result.non2xx > 0) notes.push(`${target.name}: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
      }
      // Portkey runs last, so the Sluice rows' ratio to it is filled in afterwards.
      const peer = results.get(`${label}:portkey`)
      if (peer) for (const row of rows) if (row[0] !== 'portkey') row[7] = ratio(results.get(`${label}:${row[0]}`)!.rps, peer.rps)
      table(['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', '÷direct', '÷bare', '÷portkey', 'mock cores', 'gw cores', 'autocannon cores', 'gw CPU µs/req'], rows)
      for (const note of notes) console.log(`note: ${note}`)
    }
  }
  return results
}

function latencyTable(title: string, summary: Map<string, LatencySummary>) {
  console.log(title)
  const direct = summary.get('direct')!
  const peer = summary.get('portkey')
  const rows = [...summary].map(([name, s]) => {
    const added = s.median - direct.median
    const peerAdded = peer ? peer.median - direct.median : undefined
    return [name, fixed(s.median, 3), fixed(s.p99, 3), name === 'direct' ? '' : fixed(added, 3), name === 'direct' ? '' : fixed(s.p99 - direct.p99, 3), name === 'direct' || name === 'portkey' || !peerAdded ? '' : ratio(added, peerAdded)]
  })
  table(['target', 'median ms', 'p99 ms', 'added median', 'added p99', 'added ÷ portkey added'], rows)
}

async function main() {
  if (argv.includes('--profile')) return profile(argv)
  const cpu = os.cpus()
  console.log(`# Sluice bench — ${new Date().toISOString()}${quick ? ' (quick)' : ''}`)
  console.log(`machine: ${cpu.length}× ${cpu[0]?.model ?? 'cpu'}, ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}, node ${process.version}`)
  console.log(`load average at start: ${loadAverage()}${os.loadavg()[0]! > 1 ? '  (above 1: figures taken under load, trust ratios over absolutes)' : ''}`)
  try {
    console.log(`autocannon ${execFileSync(process.execPath, [join(import.meta.dirname, '../node_modules/autocannon/autocannon.js'), '--version']).toString().split('\n')[0]}`)
  } catch {}

  const mock = await keep(startMock())
  const targets = await startGateways(mock)
  const gateways = targets.filter((t) => t.name !== 'direct' && t.name !== 'bare-proxy')

  const load = await throughput(mock, targets)

  const latency = await sequentialLatency(targets, { rounds: settings.rounds, perRound: settings.perRound })
  latencyTable(`\n## Sequential added latency, non-stream (${settings.rounds} interleaved rounds × ${settings.perRound}, median of round medians)`, latency)

  const ttfb = await sequentialLatency(targets, { rounds: settings.ttfbRounds, perRound: settings.ttfbPerRound, stream: true, until: 'first-byte' })
  latencyTable(`\n## Streaming: time to first byte (${settings.ttfbRounds} interleaved rounds × ${settings.ttfbPerRound}, median of round medians)`, ttfb)

  // Open streams before the big stream: the big stream's garbage, collected later, would move the RSS baseline.
  console.log(`\n## Streaming: gateway RSS per open stream, ${settings.openStreams} concurrent slow streams (one event per ~500 ms)`)
  const open = new Map<string, Awaited<ReturnType<typeof openStreams>>>()
  const openRows: Array<Array<string | number>> = []
  for (const target of gateways) {
    try {
      const r = await openStreams(target, settings.openStreams)
      open.set(target.name, r)
      openRows.push([target.name, `${r.opened}/${settings.openStreams}`, fixed(r.openSeconds, 1), mb(r.before), mb(r.during), fixed(r.perStream / 1024, 1)])
    } catch (error) {
      openRows.push([target.name, `failed: ${(error as Error).message}`])
    }
  }
  table(['target', 'open', 'open in s', 'RSS before', 'RSS with streams', 'KB per stream'], openRows)

  console.log(`\n## Streaming: gateway RSS over one ${settings.bigMB} MB stream (client reads as fast as it can)`)
  const big = new Map<string, Awaited<ReturnType<typeof bigStream>>>()
  const bigRows: Array<Array<string | number>> = []
  for (const target of gateways) {
    try {
      // Warm-up: lazily loaded code and tables (the tokenizer's ranks: ~40 MB, loaded on first use) are a one-time
      // cost, not growth with the stream's size.
      await bigStream(target, 2)
      const r = await bigStream(target, settings.bigMB)
      big.set(target.name, r)
      bigRows.push([target.name, mb(r.bytes), fixed(r.bytes / 1024 / 1024 / r.seconds, 0), mb(r.rss.start), mb(r.rss.peak), mb(r.rss.end), mb(r.rss.peak - r.rss.start), r.rss.samples])
    } catch (error) {
      bigRows.push([target.name, `failed: ${(error as Error).message}`])
    }
  }
  table(['target', 'streamed', 'MB/s', 'RSS start', 'RSS peak', 'RSS end', 'peak growth', 'samples'], bigRows)

  // ——— goals ———
  const at32 = (name: string) => load.get(`32c-json:${name}`)
  const direct = latency.get('direct')!
  const goals: Goal[] = []
  const full32 = at32('sluice-full')
  goals.push({ name: 'full pipeline ≥ 60 % of direct req/s at 32 c', met: full32 && full32.rps / at32('direct')!.rps >= 0.6, detail: full32 ? `${((100 * full32.rps) / at32('direct')!.rps).toFixed(0)} % (minimal ${((100 * at32('sluice-minimal')!.rps) / at32('direct')!.rps).toFixed(0)} %)` : '-' })
  const peer32 = at32('portkey')
  goals.push({ name: 'Sluice ≥ 4× Portkey req/s at 32 c', met: peer32 ? full32!.rps / peer32.rps >= 4 : undefined, detail: peer32 ? `full ${ratio(full32!.rps, peer32.rps)}, minimal ${ratio(at32('sluice-minimal')!.rps, peer32.rps)}` : 'no peer' })
  const addedMinimal = latency.get('sluice-minimal')!.median - direct.median
  const addedFull = latency.get('sluice-full')!.median - direct.median
  goals.push({ name: 'sequential added latency ≤ 0.25 ms median', met: addedMinimal <= 0.25, detail: `minimal ${addedMinimal.toFixed(3)} ms, full ${addedFull.toFixed(3)} ms` })
  const flat = (name: string) => big.get(name) && big.get(name)!.rss.peak - big.get(name)!.rss.start
  const flatMinimal = flat('sluice-minimal')
  goals.push({ name: `flat RSS over a ${settings.bigMB} MB stream (growth < 10 %)`, met: flatMinimal === undefined ? undefined : flatMinimal < settings.bigMB * 1024 * 1024 * 0.1, detail: `peak growth minimal ${flatMinimal === undefined ? '-' : mb(flatMinimal)}, full ${flat('sluice-full') === undefined ? '-' : mb(flat('sluice-full')!)}` })
  const perStream = open.get('sluice-minimal')?.perStream
  goals.push({ name: '≤ 30 KB per open stream', met: perStream === undefined || perStream < 0 ? undefined : perStream <= 30 * 1024, detail: `minimal ${perStream === undefined ? '-' : (perStream / 1024).toFixed(1)} KB, full ${open.get('sluice-full') ? (open.get('sluice-full')!.perStream / 1024).toFixed(1) : '-'} KB${open.get('portkey') ? `, portkey ${(open.get('portkey')!.perStream / 1024).toFixed(1)} KB` : ''}` })
  console.log('\n## Goals')
  printGoals(goals)
  console.log(`\nload average at end: ${loadAverage()}`)
}

main()
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(async () => {
    await Promise.all(started.map((s) => s.stop()))
    rmSync(scratch, { recursive: true, force: true })
  })
