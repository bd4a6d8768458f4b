/**
 * Throughput under autocannon (its own process), one target at a time, with each server's CPU read from /proc:
 * the headline is the gateway's CPU per request and its ratio to the floors measured in the same run (the bare
 * Node proxy, nginx) and to the peer (Portkey).
 */
import { autocannon, type LoadResult, type Target } from './load.ts'
import { withCpu } from './proc.ts'
import { fixed, ratio, table } from './report.ts'

/** A process using this much of a core was the bottleneck of its run. */
export const SATURATED = 0.9

export interface Measured {
  load: LoadResult
  /** Cores used over the run: the mock's, and the gateway's (all its processes). */
  cores: { mock: number; gateway?: number }
  /** CPU µs per request: the gateway's (undefined for direct) and the mock's. */
  gatewayUs?: number
  mockUs: number
}

/** Loads one target and reads the CPU of the mock and of the gateway's process tree. */
export async function measure(target: Target, mockPid: number, options: { connections: number; seconds: number; stream: boolean }): Promise<Measured> {
  const pids: Record<string, number> = { mock: mockPid, ...(target.pid && { gateway: target.pid }) }
  const { result, cores, seconds } = await withCpu(pids, () => autocannon(target, options))
  const perRequest = (used: number | undefined) => (used === undefined || !result.total ? undefined : (used * seconds * 1e6) / result.total)
  return { load: result, cores: { mock: cores.mock!, gateway: cores.gateway }, gatewayUs: perRequest(cores.gateway), mockUs: perRequest(cores.mock)! }
}

/** Notes that say when a run measured something other than the gateway (the load generator or the mock was the limit). */
export function saturationNotes(name: string, m: Measured): string[] {
  const notes: string[] = []
  if (m.load.loadgenCores >= SATURATED) notes.push(`${name}: autocannon used ${m.load.loadgenCores.toFixed(2)} cores — this run was load-generator-bound`)
  if (m.cores.mock >= SATURATED) notes.push(`${name}: the mock used ${m.cores.mock.toFixed(2)} cores — this run was mock-bound`)
  if (m.load.errors + m.load.non2xx > 0) notes.push(`${name}: ${m.load.errors} errors, ${m.load.non2xx} non-2xx responses`)
  return notes
}

/** One throughput table: every target at `connections`, stream or not. Returns the measurements by target name. */
export async function throughputSection(targets: Target[], mockPid: number, options: { connections: number; seconds: number; stream: boolean }): Promise<Map<string, Measured>> {
  console.log(`\n## Throughput, ${options.connections} connections, ${options.stream ? 'stream' : 'non-stream'} (${options.seconds} s each)`)
  const measured = new Map<string, Measured>()
  for (const target of targets) measured.set(target.name, await measure(target, mockPid, options))
  const floor = (name: string) => measured.get(name)
  const rows = [...measured].map(([name, m]) => {
    const cpu = (base: string) => (name === base || name === 'direct' ? '' : ratio(m.gatewayUs ?? Number.NaN, floor(base)?.gatewayUs))
    const rps = (base: string) => (name === base ? '' : ratio(m.load.rps, floor(base)?.load.rps))
    return [
      name, fixed(m.load.rps), fixed(m.load.p50), fixed(m.load.p99), m.load.errors + m.load.non2xx,
      m.gatewayUs === undefined ? '' : fixed(m.gatewayUs), cpu('bare-proxy'), cpu('nginx'), cpu('portkey'),
      rps('direct'), name === 'direct' ? '' : rps('bare-proxy'), rps('portkey'),
      m.cores.gateway === undefined ? '' : fixed(m.cores.gateway, 2), fixed(m.cores.mock, 2), fixed(m.load.loadgenCores, 2), fixed(m.mockUs),
    ]
  })
  table(['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'gw CPU µs/req', 'CPU ÷bare', 'CPU ÷nginx', 'CPU ÷portkey', 'rps ÷direct', 'rps ÷bare', 'rps ÷portkey', 'gw cores', 'mock cores', 'autocannon cores', 'mock µs/req'], rows)
  for (const [name, m] of measured) for (const note of saturationNotes(name, m)) console.log(`note: ${note}`)
  return measured
}
