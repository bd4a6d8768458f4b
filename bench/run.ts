/**
 * `npm run bench [-- --quick]`: Sluice against the same mock upstream reached directly, in one run, so the
 * figures are ratios to a baseline measured alongside them. Each server and the load generator run in their
 * own processes.
 */
import os from 'node:os'
import { startMock, startSluice, type Started } from './lib/processes.ts'
import { autocannon, sequentialLatency } from './lib/load.ts'

const quick = process.argv.includes('--quick')
const seconds = quick ? 3 : 10
const started: Started[] = []

async function main() {
  console.log(`# Sluice bench — ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length}× ${os.cpus()[0]?.model ?? 'cpu'}${quick ? ' (quick)' : ''}`)
  const mock = await startMock()
  started.push(mock)
  const minimal = await startSluice('bench/configs/minimal.config.ts', { BENCH_UPSTREAM_URL: `${mock.url}/v1` })
  started.push(minimal)
  const mockBase = `${mock.url}/v1`.replace(/\/v1$/, '')

  console.log('\n## Throughput, 32 connections, non-stream')
  const direct = await autocannon(mockBase, { connections: 32, seconds, stream: false })
  const through = await autocannon(minimal.url, { connections: 32, seconds, stream: false })
  console.log(`direct to mock      ${direct.rps.toFixed(0).padStart(7)} req/s  p50 ${direct.p50} ms  p99 ${direct.p99} ms`)
  console.log(`sluice (minimal)    ${through.rps.toFixed(0).padStart(7)} req/s  p50 ${through.p50} ms  p99 ${through.p99} ms  errors ${through.errors + through.non2xx}`)
  console.log(`ratio sluice/direct ${(through.rps / direct.rps).toFixed(2)}`)

  console.log('\n## Sequential added latency (interleaved rounds, median of round medians)')
  const latency = await sequentialLatency(mockBase, minimal.url, { rounds: quick ? 5 : 15, perRound: quick ? 100 : 300 })
  console.log(`direct   median ${latency.direct.median.toFixed(3)} ms  p99 ${latency.direct.p99.toFixed(3)} ms`)
  console.log(`sluice   median ${latency.gateway.median.toFixed(3)} ms  p99 ${latency.gateway.p99.toFixed(3)} ms`)
  console.log(`added    median ${(latency.gateway.median - latency.direct.median).toFixed(3)} ms  p99 ${(latency.gateway.p99 - latency.direct.p99).toFixed(3)} ms`)
}

main()
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(async () => {
    await Promise.all(started.map((s) => s.stop()))
  })
