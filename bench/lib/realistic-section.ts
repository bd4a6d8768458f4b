/** Prints the realistic-latency scenario: one table per number of concurrent streams, every target in turn. */
import type { Target } from './load.ts'
import { PACED } from './paced.ts'
import { added, eventsPerSecond, over, realisticRun, type RealisticRun, type RealisticSettings } from './realistic.ts'
import { fixed, table } from './report.ts'
import { SATURATED } from './throughput.ts'

/** Memory per open stream is read only when at least this share of the streams were open together. */
const OPEN_TOGETHER = 0.9

export interface RealisticSummary {
  streams: number
  /** Cores the mock and the client alone need at this event rate (direct run's CPU per event × events/s). */
  loaderCores?: number
  runs: Map<string, RealisticRun>
  /** Per target: added TTFB and total (paired with direct), and KB of gateway RSS per open stream. */
  added: Map<string, { ttfb: ReturnType<typeof added>; total: ReturnType<typeof added>; kbPerStream: number }>
}

export async function realisticSection(targets: Target[], mockPid: number, settings: RealisticSettings): Promise<RealisticSummary> {
  const [d0, d1] = PACED.delayMs
  const { plan } = settings
  const rate = eventsPerSecond(settings)
  console.log(`\n## Realistic upstream, ${settings.streams} concurrent streams: the mock answers after ${d0}–${d1} ms and streams ${plan.rate[0]}–${plan.rate[1]} events/s for ${(plan.eventMs / 1000).toFixed(1)} s (uniform, seed ${plan.seed}); streams opened over ${(settings.rampMs / 1000).toFixed(1)} s, one connection each`)
  console.log(`with every stream open the mock sends ~${fixed(rate)} events/s; the mock, the gateway and the client each handle every one of them`)
  const runs = new Map<string, RealisticRun>()
  for (const target of targets) {
    try {
      runs.set(target.name, await realisticRun(target, mockPid, settings))
    } catch (error) {
      console.log(`${target.name}: failed: ${(error as Error).message}`)
    }
  }
  const direct = runs.get('direct')
  const summary: RealisticSummary = { streams: settings.streams, runs, added: new Map() }
  const latency: Array<Array<string | number>> = []
  const cost: Array<Array<string | number>> = []
  const notes: string[] = []
  const maybe = (value: number | undefined, digits: number) => (value === undefined ? '' : fixed(value, digits))
  for (const [name, run] of runs) {
    const r = run.result
    const ttfb = direct && name !== 'direct' ? added(r.ttfb, direct.result.ttfb) : undefined
    const total = direct && name !== 'direct' ? added(r.total, direct.result.total) : undefined
    const together = (run.rss?.streams ?? 0) >= OPEN_TOGETHER * settings.streams
    const kbPerStream = run.rss && together ? (run.rss.open - run.rss.before) / run.rss.streams / 1024 : Number.NaN
    if (run.rss && !together) notes.push(`${name}: only ${run.rss.streams} of ${settings.streams} streams were open together when the last one got its first byte — no memory-per-stream figure`)
    if (ttfb && total) summary.added.set(name, { ttfb, total, kbPerStream })
    latency.push([
      name, `${settings.streams - r.failed}/${settings.streams}`, r.maxLive, fixed(over(r.ttfb, 50), 1), fixed(over(r.ttfb, 99), 1), fixed(over(r.total, 50), 0),
      maybe(ttfb?.p50, 2), maybe(ttfb?.p99, 2), maybe(total?.p50, 2), maybe(total?.p99, 2), fixed(r.lagP99Ms, 1),
    ])
    cost.push([
      name, maybe(run.rss && run.rss.before / 1048576, 1), maybe(run.rss && run.rss.open / 1048576, 1), run.rss?.streams ?? '', run.rss ? fixed(kbPerStream, 1) : '',
      maybe(run.cores.gateway, 2), fixed(run.cores.mock, 2), fixed(run.cores.client, 2), maybe(run.usPerEvent.gateway, 1), fixed(run.usPerEvent.mock, 1), fixed(run.usPerEvent.client, 1),
    ])
    if (r.failed) notes.push(`${name}: ${r.failed} streams failed (${Object.entries(r.errors).map(([why, n]) => `${n}× ${why}`).join(', ')})`)
    const busy = (run.cores.gateway ?? 0) + run.cores.mock + run.cores.client
    if (busy >= 2 * SATURATED) notes.push(`${name}: gateway + mock + client used ${busy.toFixed(2)} of the 2 cores — the machine was the limit; added latency includes waiting for a core`)
    else if (run.cores.gateway !== undefined && run.cores.gateway >= SATURATED) notes.push(`${name}: the gateway used ${run.cores.gateway.toFixed(2)} cores — it was saturated`)
    if (r.lagP99Ms > 20) notes.push(`${name}: the client's own event loop lagged ${r.lagP99Ms.toFixed(0)} ms (p99): its timings carry that much error`)
  }
  table(['target', 'ok', 'max open', 'TTFB p50', 'TTFB p99', 'total p50', '+TTFB p50', '+TTFB p99', '+total p50', '+total p99', 'client lag p99'], latency)
  console.log('(ms; "+" columns: stream i through the target minus stream i sent directly — same delay and rate — as percentiles over the streams)')
  table(['target', 'RSS before MB', 'RSS open MB', 'open then', 'KB/open stream', 'gw cores', 'mock cores', 'client cores', 'gw µs/event', 'mock µs/event', 'client µs/event'], cost)
  console.log('(RSS of all the gateway\'s processes: "open" is the median once every stream had its first byte, when "open then" streams were open; µs/event = CPU ÷ the SSE events the client received)')
  for (const note of notes) console.log(`note: ${note}`)
  if (direct) {
    const floor = direct.usPerEvent.mock + direct.usPerEvent.client
    summary.loaderCores = (rate * floor) / 1e6
    const nginx = runs.get('nginx')?.usPerEvent.gateway
    console.log(`note: at ${fixed(rate)} events/s the mock and the client alone need ~${fixed((rate * floor) / 1e6, 2)} cores (${fixed(floor, 1)} µs per event, direct run)${nginx === undefined ? '' : `; with nginx in between ~${fixed((rate * (floor + nginx)) / 1e6, 2)}`} — of the machine's 2. Above ~1.8, added latency measures the machine, not the gateway; --rate lo-hi lowers the event rate.`)
  }
  return summary
}
