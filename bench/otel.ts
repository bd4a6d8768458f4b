/**
 * What otel() costs a request, and that a collector which is down costs it nothing more, in one run. Four gateways,
 * each in its own process, in front of one mock upstream:
 *   off       no otel()
 *   live      otel() exporting to a collector that answers (a plain node:http server in this process)
 *   refused   otel() exporting to a closed port
 *   silent    otel() exporting to a server that accepts and never answers (the queue fills; spans are dropped)
 * Gateway CPU per request (from /proc) in interleaved concurrent rounds, and sequential latency in interleaved
 * rounds, non-stream and stream; medians printed with ratios against `off` and `live`. At the end, each
 * gateway's span counters from its /metrics.
 *
 *   node --import jiti/register bench/otel.ts [--quick]
 */
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Agent, request } from 'undici'
import { startMock, startSluice, type Started } from './lib/processes.ts'
import { cpuSeconds } from './lib/proc.ts'
import { chatBody, median, sequentialLatency } from './lib/load.ts'

const quick = process.argv.includes('--quick')
const { rounds, perRound, concurrency, latencyRounds, latencyPerRound } = quick
  ? { rounds: 3, perRound: 1000, concurrency: 16, latencyRounds: 3, latencyPerRound: 100 }
  : { rounds: 7, perRound: 3000, concurrency: 16, latencyRounds: 7, latencyPerRound: 300 }

type Case = 'off' | 'live' | 'refused' | 'silent'
const CASES: Case[] = ['off', 'live', 'refused', 'silent']

async function listen(server: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown }): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** `count` requests, `concurrency` at a time; gateway CPU µs per request. */
async function cpuRound(gateway: Started, agent: Agent, stream: boolean, count: number): Promise<number> {
  const body = chatBody(stream)
  let next = 0
  const before = cpuSeconds(gateway.pid)
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++
      const response = await request(`${gateway.url}/v1/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent })
      await response.body.text()
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
    }
  }))
  return ((cpuSeconds(gateway.pid) - before) * 1e6) / count
}

async function spanCounters(gateway: Started): Promise<string> {
  const response = await request(`${gateway.url}/metrics`)
  const text = await response.body.text()
  const lines = text.split('\n').filter((line) => /^sluice_otel_spans_(exported|dropped)_total/.test(line))
  return lines.length ? lines.map((line) => line.replace('sluice_otel_spans_', '')).join('  ') : '(no otel)'
}

const started: Started[] = []
const sockets = new Set<Socket>()
let received = 0
const collector = createHttpServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    received++
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
const silent = createTcpServer((socket) => { sockets.add(socket); socket.on('error', () => {}) })
try {
  const refusedServer = createTcpServer()
  const refused = await listen(refusedServer)
  await new Promise<void>((resolve) => refusedServer.close(() => resolve()))
  const endpoints: Record<Case, string | undefined> = { off: undefined, live: await listen(collector), refused, silent: await listen(silent) }

  const mock = await startMock()
  started.push(mock)
  const gateways = {} as Record<Case, Started>
  for (const kind of CASES) {
    const env: Record<string, string> = { BENCH_UPSTREAM_URL: `${mock.url}/v1` }
    if (endpoints[kind]) env.BENCH_OTEL_ENDPOINT = endpoints[kind]!
    gateways[kind] = await startSluice('bench/configs/otel.config.ts', env)
    started.push(gateways[kind])
  }
  const agent = new Agent({ connections: concurrency })
  console.log(`otel bench: ${rounds} rounds × ${perRound} requests per case, ${concurrency} at a time; latency ${latencyRounds} rounds × ${latencyPerRound} sequential`)

  for (const stream of [false, true]) {
    for (const kind of CASES) await cpuRound(gateways[kind], agent, stream, 500) // warm-up
    const samples = new Map<Case, number[]>(CASES.map((kind) => [kind, []]))
    for (let r = 0; r < rounds; r++) for (const kind of CASES) samples.get(kind)!.push(await cpuRound(gateways[kind], agent, stream, perRound))
    const us = Object.fromEntries(CASES.map((kind) => [kind, median(samples.get(kind)!)])) as Record<Case, number>
    const latency = await sequentialLatency(CASES.map((kind) => ({ name: kind, url: gateways[kind].url, headers: {} })), { rounds: latencyRounds, perRound: latencyPerRound, stream })
    console.log(`\n${stream ? 'stream' : 'non-stream'}: gateway CPU per request (median of ${rounds} rounds), sequential latency (median of round medians, p99)`)
    for (const kind of CASES) {
      const l = latency.get(kind)!
      console.log(`  ${kind.padEnd(8)} ${us[kind].toFixed(0).padStart(5)} µs   ${l.median.toFixed(3)} ms  p99 ${l.p99.toFixed(3)} ms   (cpu rounds: ${samples.get(kind)!.map((v) => v.toFixed(0)).join(', ')})`)
    }
    const lat = (kind: Case) => latency.get(kind)!.median
    console.log(`  CPU:     refused ÷ live = ${(us.refused / us.live).toFixed(2)}   silent ÷ live = ${(us.silent / us.live).toFixed(2)}   live ÷ off = ${(us.live / us.off).toFixed(2)}   refused ÷ off = ${(us.refused / us.off).toFixed(2)}`)
    console.log(`  latency: refused ÷ live = ${(lat('refused') / lat('live')).toFixed(2)}   silent ÷ live = ${(lat('silent') / lat('live')).toFixed(2)}   live ÷ off = ${(lat('live') / lat('off')).toFixed(2)}   refused ÷ off = ${(lat('refused') / lat('off')).toFixed(2)}`)
  }
  await agent.close()
  console.log(`\nspans: the live collector received ${received} export requests`)
  for (const kind of CASES) console.log(`  ${kind.padEnd(8)} ${await spanCounters(gateways[kind])}`)
} finally {
  await Promise.all(started.map((child) => child.stop()))
  for (const socket of sockets) socket.destroy()
  collector.close()
  silent.close()
}
