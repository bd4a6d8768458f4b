/**
 * `npm run bench [-- flags]`: Sluice (minimal config and full pipeline) beside the floors — the mock reached
 * directly, nginx as a plain reverse proxy, a bare Node proxy — and the peer (Portkey), all against the same mock
 * upstream in one run, so every figure is printed as a ratio to a baseline measured alongside it. Each server, the
 * mock and each load generator run in their own processes; CPU is read from /proc (a server's whole process tree).
 *
 * Scenarios, in order:
 *   throughput    autocannon at 32 (and 128) connections, non-stream and stream: req/s, p50/p99, and the headline,
 *                 gateway CPU µs per request ÷ bare, ÷ nginx, ÷ Portkey
 *   workers       `sluice start --workers 2` (minimal) beside the single-process minimal run
 *   latency       sequential added latency (non-stream) and time to first byte (stream)
 *   realistic     the mock answers after 20–200 ms and streams 30–80 events/s; 1,000 and 5,000 concurrent streams
 *                 from bench/stream-client.ts: added TTFB/total stream by stream vs direct, gateway RSS per open stream
 *   big           gateway RSS over one large stream
 * then issue 18's goals.
 *
 *   --quick          3 s runs, 32 connections, 1,000 realistic streams only, a 20 MB big stream (~2 minutes)
 *   --only a,b       run only these scenarios (names above)
 *   --streams N,M    realistic scenario stream counts (default 1000,5000; quick 1000)
 *   --rate lo-hi     realistic scenario events per second per stream (default 30-80)
 *   --no-peer        skip Portkey
 *   --no-nginx       skip nginx
 *   --profile        instead of the scenarios: CPU-profile the gateway under load (see bench/profile.ts)
 *
 * nginx: /usr/sbin/nginx (Debian's nginx-light; installed with apt-get when missing and running as root, else
 * skipped with the reason; BENCH_NGINX=path uses another binary), one worker process.
 */
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { childFdLimit, node, startMock, startProcess, startSluice, type Started } from './lib/processes.ts'
import { sequentialLatency, type LatencySummary, type Target } from './lib/load.ts'
import { startPeer, peerHeaders, PEER } from './lib/peer.ts'
import { NGINX_WORKERS, startNginx } from './lib/nginx.ts'
import { bigStream } from './lib/streams.ts'
import { mb } from './lib/proc.ts'
import { fixed, printGoals, ratio, table } from './lib/report.ts'
import { throughputSection, type Measured } from './lib/throughput.ts'
import { workersSection } from './lib/workers-section.ts'
import { realisticSection, type RealisticSummary } from './lib/realistic-section.ts'
import { PACED } from './lib/paced.ts'
import { issue18Goals, type RunFigures } from './lib/goals.ts'
import { profile } from './profile.ts'

const argv = process.argv.slice(2)
const flag = (name: string) => {
  const at = argv.indexOf(name)
  return at >= 0 ? argv[at + 1] : undefined
}
const quick = argv.includes('--quick')
const withPeer = !argv.includes('--no-peer')
const withNginx = !argv.includes('--no-nginx')
const SCENARIOS = ['throughput', 'workers', 'latency', 'realistic', 'big'] as const
const only = flag('--only')?.split(',')
for (const name of only ?? []) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario "${name}" (${SCENARIOS.join(', ')})`)
const runs = (scenario: (typeof SCENARIOS)[number]) => !only || only.includes(scenario)
const settings = quick
  ? { seconds: 3, connections: [32], rounds: 5, perRound: 100, ttfbRounds: 5, ttfbPerRound: 40, bigMB: 20, streams: [1000], arrivalsPerSecond: 1000, holdMs: 1500 }
  : { seconds: 8, connections: [32, 128], rounds: 15, perRound: 200, ttfbRounds: 11, ttfbPerRound: 100, bigMB: 100, streams: [1000, 5000], arrivalsPerSecond: 500, holdMs: 3000 }
if (flag('--streams')) settings.streams = flag('--streams')!.split(',').map(Number)
/** Events per second of a realistic stream: issue 18's 30–80 unless --rate lo-hi says otherwise. */
const rate = (flag('--rate') ?? `${PACED.eventsPerSecond[0]}-${PACED.eventsPerSecond[1]}`).split('-').map(Number) as [number, number]
if (rate.length !== 2 || !rate.every((r) => r > 0) || rate[0] > rate[1]) throw new Error('--rate: expected lo-hi events per second, e.g. 30-80')
/** Seed of the realistic scenario's delays and rates (fixed, so runs compare). */
const SEED = 18

const started: Started[] = []
const scratch = mkdtempSync(join(os.tmpdir(), 'sluice-bench-'))
const benchKey = `sk-bench-${randomBytes(24).toString('hex')}`
const began = performance.now()

const loadAverage = () => os.loadavg().map((n) => n.toFixed(2)).join(' ')
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(0)} s`

async function keep(promise: Promise<Started>): Promise<Started> {
  const child = await promise
  started.push(child)
  return child
}

function gatewayEnv(mock: Started): Record<string, string> {
  return { BENCH_UPSTREAM_URL: `${mock.url}/v1`, BENCH_UPSTREAM_CONNECTIONS: '16384', BENCH_KEY: benchKey, BENCH_SCRATCH: scratch }
}

async function startTargets(mock: Started, fdLimit: number): Promise<Target[]> {
  const env = gatewayEnv(mock)
  const [bare, minimal, full] = await Promise.all([
    keep(startProcess(node, ['--import', 'jiti/register', 'bench/bare-proxy.ts', `${mock.url}/v1`])),
    keep(startSluice('bench/configs/minimal.config.ts', env)),
    keep(startSluice('bench/configs/full.config.ts', env)),
  ])
  const plugins = /bench-full-plugins: ([^\n]*)/.exec(full.output)?.[1] ?? '?'
  console.log(`full pipeline plugins: ${plugins}`)
  const targets: Target[] = [{ name: 'direct', url: mock.url, headers: {}, pid: undefined }]
  if (withNginx) {
    const nginx = await startNginx(mock.url, scratch, fdLimit)
    if (typeof nginx === 'string') console.log(`nginx skipped: ${nginx}`)
    else {
      started.push(nginx)
      targets.push({ name: 'nginx', url: nginx.url, headers: {}, pid: nginx.pid })
      console.log(`nginx: ${nginx.version}, ${NGINX_WORKERS} worker process (fairest on 2 cores: the mock and the load generator need the other; CPU = master + worker), keep-alive upstream, proxy_buffering off, at ${nginx.url}`)
    }
  } else console.log('nginx skipped (--no-nginx)')
  targets.push(
    { name: 'bare-proxy', url: bare.url, headers: {}, pid: bare.pid },
    { name: 'sluice-minimal', url: minimal.url, headers: {}, pid: minimal.pid },
    { name: 'sluice-full', url: full.url, headers: plugins.includes('keys') ? { authorization: `Bearer ${benchKey}` } : {}, pid: full.pid },
  )
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

function latencyTable(title: string, summary: Map<string, LatencySummary>) {
  console.log(title)
  const direct = summary.get('direct')!
  const peer = summary.get('portkey')
  const bare = summary.get('bare-proxy')
  const rows = [...summary].map(([name, s]) => {
    const added = s.median - direct.median
    const peerAdded = peer ? peer.median - direct.median : undefined
    return [name, fixed(s.median, 3), fixed(s.p99, 3), name === 'direct' ? '' : fixed(added, 3), name === 'direct' ? '' : fixed(s.p99 - direct.p99, 3),
      name === 'direct' || name === 'bare-proxy' || !bare ? '' : fixed(added - (bare.median - direct.median), 3),
      name === 'direct' || name === 'portkey' || !peerAdded ? '' : ratio(added, peerAdded)]
  })
  table(['target', 'median ms', 'p99 ms', 'added median', 'added p99', 'added − bare added', 'added ÷ portkey added'], rows)
}

async function main() {
  if (argv.includes('--profile')) return profile(argv)
  const cpu = os.cpus()
  console.log(`# Sluice bench — ${new Date().toISOString()}${quick ? ' (quick)' : ''}${only ? ` (only ${only.join(', ')})` : ''}`)
  console.log(`machine: ${cpu.length}× ${cpu[0]?.model ?? 'cpu'}, ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}, node ${process.version}`)
  console.log(`load average at start: ${loadAverage()}${os.loadavg()[0]! > 1 ? '  (above 1: figures taken under load, trust ratios over absolutes)' : ''}`)
  try {
    console.log(`autocannon ${execFileSync(process.execPath, [join(import.meta.dirname, '../node_modules/autocannon/autocannon.js'), '--version']).toString().split('\n')[0]}`)
  } catch {}
  const fd = childFdLimit()
  console.log(`open-file limit of every process the bench starts: ${fd.soft} (asked for 65536; the hard limit here is ${fd.hard}${fd.hard < 65_536 ? ', and raising it takes CAP_SYS_RESOURCE' : ''})`)

  const mock = await keep(startMock())
  const targets = await startTargets(mock, fd.soft)
  const defaultRate = rate[0] === PACED.eventsPerSecond[0] && rate[1] === PACED.eventsPerSecond[1]
  const figures: RunFigures = { realistic: new Map(), ...(!defaultRate && { realisticRate: rate.join('–') }) }

  if (runs('throughput')) {
    for (const connections of settings.connections) {
      for (const stream of [false, true]) {
        const section = performance.now()
        const measured = await throughputSection(targets, mock.pid, { connections, seconds: settings.seconds, stream })
        if (connections === 32) figures[stream ? 'stream' : 'json'] = measured
        console.log(`(${elapsed(section)})`)
      }
    }
  }

  if (runs('workers')) {
    const section = performance.now()
    const storage = join(scratch, 'workers-kv')
    mkdirSync(storage, { recursive: true })
    const single = (table?: Map<string, Measured>) => table?.get('sluice-minimal')
    figures.workers = await workersSection(mock.pid, {
      workers: 2, connections: 32, seconds: settings.seconds, env: { ...gatewayEnv(mock), BENCH_STORAGE_DIR: storage },
      single: { json: single(figures.json), stream: single(figures.stream) },
    })
    console.log(`(${elapsed(section)})`)
  }

  if (runs('latency')) {
    const section = performance.now()
    figures.sequential = await sequentialLatency(targets, { rounds: settings.rounds, perRound: settings.perRound })
    latencyTable(`\n## Sequential added latency, non-stream (${settings.rounds} interleaved rounds × ${settings.perRound}, median of round medians)`, figures.sequential)
    const ttfb = await sequentialLatency(targets, { rounds: settings.ttfbRounds, perRound: settings.ttfbPerRound, stream: true, until: 'first-byte' })
    latencyTable(`\n## Streaming: time to first byte (${settings.ttfbRounds} interleaved rounds × ${settings.ttfbPerRound}, median of round medians)`, ttfb)
    console.log(`(${elapsed(section)})`)
  }

  if (runs('realistic')) {
    for (const streams of settings.streams) {
      const section = performance.now()
      // A proxy holds two sockets per stream (client and upstream), plus its own files.
      const needed = 2 * streams + 512
      if (fd.soft < needed) {
        console.log(`\n## Realistic upstream, ${streams} concurrent streams: skipped — a proxy needs ~${needed} open files and the limit is ${fd.soft} (hard ${fd.hard})`)
        continue
      }
      const rampMs = Math.round((streams / settings.arrivalsPerSecond) * 1000)
      const summary: RealisticSummary = await realisticSection(targets, mock.pid, { streams, rampMs, plan: { seed: SEED, eventMs: rampMs + settings.holdMs, rate } })
      figures.realistic.set(streams, summary)
      console.log(`(${elapsed(section)})`)
    }
  }

  if (runs('big')) {
    const section = performance.now()
    console.log(`\n## Streaming: gateway RSS over one ${settings.bigMB} MB stream (client reads as fast as it can)`)
    const growth = new Map<string, number>()
    const rows: Array<Array<string | number>> = []
    for (const target of targets.filter((t) => t.name.startsWith('sluice-') || t.name === 'portkey')) {
      try {
        // Warm-up: lazily loaded code and tables (the tokenizer's ranks: ~40 MB, loaded on first use) are a one-time
        // cost, not growth with the stream's size.
        await bigStream(target, 2)
        const r = await bigStream(target, settings.bigMB)
        growth.set(target.name, r.rss.peak - r.rss.start)
        rows.push([target.name, mb(r.bytes), fixed(r.bytes / 1024 / 1024 / r.seconds, 0), mb(r.rss.start), mb(r.rss.peak), mb(r.rss.end), mb(r.rss.peak - r.rss.start), r.rss.samples])
      } catch (error) {
        rows.push([target.name, `failed: ${(error as Error).message}`])
      }
    }
    table(['target', 'streamed', 'MB/s', 'RSS start', 'RSS peak', 'RSS end', 'peak growth', 'samples'], rows)
    figures.big = { bigMB: settings.bigMB, growth }
    console.log(`(${elapsed(section)})`)
  }

  console.log('\n## Goals (issue 18; ratios within this run)')
  printGoals(issue18Goals(figures))
  console.log(`\nload average at end: ${loadAverage()}; the bench took ${elapsed(began)}`)
}

// Whatever ends this process, the servers it started are told to stop (nginx's master stops its workers).
process.on('exit', () => {
  for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM')
})

main()
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(async () => {
    await Promise.all(started.map((s) => s.stop()))
    rmSync(scratch, { recursive: true, force: true })
  })
