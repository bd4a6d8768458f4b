/**
 * `sluice start --workers 2` (minimal config) beside the single-process minimal run of the throughput tables: req/s
 * and CPU per request of the whole process tree (primary + workers). autocannon and the mock share the machine's
 * two cores with the workers, so the gain is bounded by what they leave.
 */
import { processTree } from './proc.ts'
import { startSluice } from './processes.ts'
import type { Target } from './load.ts'
import { fixed, ratio, table } from './report.ts'
import { measure, saturationNotes, type Measured } from './throughput.ts'

export interface WorkersOptions {
  workers: number
  connections: number
  seconds: number
  env: Record<string, string>
  /** The single-process minimal measurements from the throughput tables, by `stream`. */
  single: { json?: Measured; stream?: Measured }
}

export async function workersSection(mockPid: number, options: WorkersOptions): Promise<{ json?: Measured; stream?: Measured; error?: string }> {
  console.log(`\n## sluice-minimal with --workers ${options.workers} beside one process (${options.connections} connections, ${options.seconds} s each)`)
  let gateway
  try {
    gateway = await startSluice('bench/configs/minimal.config.ts', options.env, [], ['--workers', String(options.workers)])
  } catch (error) {
    const why = (error as Error).message.split('\n').slice(0, 3).join(' ')
    console.log(`skipped: --workers ${options.workers} did not start (${why})`)
    return { error: why }
  }
  try {
    const target: Target = { name: `sluice-minimal --workers ${options.workers}`, url: gateway.url, headers: {}, pid: gateway.pid }
    console.log(`processes: ${processTree(gateway.pid).length} (the primary and its workers; CPU and RSS are their sum)`)
    const json = await measure(target, mockPid, { connections: options.connections, seconds: options.seconds, stream: false })
    const stream = await measure(target, mockPid, { connections: options.connections, seconds: options.seconds, stream: true })
    const rows: Array<Array<string | number>> = []
    const notes: string[] = []
    for (const [mode, single, multi] of [['non-stream', options.single.json, json], ['stream', options.single.stream, stream]] as const) {
      for (const [name, m] of [['sluice-minimal (1 process)', single], [target.name, multi]] as const) {
        if (!m) continue
        rows.push([name, mode, fixed(m.load.rps), fixed(m.load.p50), fixed(m.load.p99), m.load.errors + m.load.non2xx, fixed(m.gatewayUs ?? Number.NaN), fixed(m.cores.gateway ?? Number.NaN, 2), fixed(m.cores.mock, 2), fixed(m.load.loadgenCores, 2),
          m === multi ? ratio(m.load.rps, single?.load.rps) : '', m === multi ? ratio(m.gatewayUs ?? Number.NaN, single?.gatewayUs) : ''])
        if (m === multi) notes.push(...saturationNotes(`${name}, ${mode}`, m))
      }
    }
    table(['target', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'gw CPU µs/req', 'gw cores', 'mock cores', 'autocannon cores', 'rps ÷1 process', 'CPU/req ÷1 process'], rows)
    for (const note of notes) console.log(`note: ${note}`)
    const loaders = json.cores.mock + json.load.loadgenCores
    console.log(`note: autocannon and the mock run on the same 2 cores as the workers and used ${loaders.toFixed(2)} of them (non-stream), so two workers could share at most ~${Math.max(0, 2 - loaders).toFixed(2)} cores (less when anything else runs): the gain is bounded by the shared cores, not by the workers.`)
    console.log('note: the single-process rows are from the throughput tables above (same run, memory storage); the workers run on fs storage, which --workers requires and the minimal pipeline never touches per request.')
    return { json, stream }
  } finally {
    await gateway.stop()
  }
}
