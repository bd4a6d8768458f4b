/** Issue 18's targets, judged from one run's figures (ratios within the run, never absolute times). */
import type { LatencySummary } from './load.ts'
import type { RealisticSummary } from './realistic-section.ts'
import { fixed, ratio, type Goal } from './report.ts'
import type { Measured } from './throughput.ts'

export interface RunFigures {
  /** Throughput at 32 connections by target name, non-stream and stream. */
  json?: Map<string, Measured>
  stream?: Map<string, Measured>
  sequential?: Map<string, LatencySummary>
  /** By number of concurrent streams. */
  realistic: Map<number, RealisticSummary>
  /** Set when the realistic streams ran at another rate than issue 18's 30–80 events/s (--rate). */
  realisticRate?: string
  workers?: { json?: Measured; stream?: Measured; error?: string }
  big?: { bigMB: number; growth: Map<string, number> }
}

const NOT_RUN = { met: undefined, detail: 'not run' }

function cpuGoal(name: string, table: Map<string, Measured> | undefined, gateway: string, limit: number): Goal {
  const us = (n: string) => table?.get(n)?.gatewayUs
  const bare = us('bare-proxy')
  const mine = us(gateway)
  if (!table || bare === undefined || mine === undefined) return { name, ...NOT_RUN }
  const other = gateway === 'sluice-full' ? 'sluice-minimal' : 'sluice-full'
  const nginx = us('nginx')
  return {
    name, met: mine / bare <= limit,
    detail: `${ratio(mine, bare)} (${fixed(mine)} µs vs bare ${fixed(bare)} µs; ${other} ${ratio(us(other) ?? Number.NaN, bare)}${nginx === undefined ? '' : `; nginx ${fixed(nginx)} µs`})`,
  }
}

function peerGoal(name: string, table: Map<string, Measured> | undefined): Goal {
  const rps = (n: string) => table?.get(n)?.load.rps
  const peer = rps('portkey')
  if (!table || rps('sluice-full') === undefined) return { name, ...NOT_RUN }
  if (peer === undefined) return { name, met: undefined, detail: 'no peer this run' }
  return { name, met: rps('sluice-full')! / peer >= 8, detail: `full ${ratio(rps('sluice-full')!, peer)}, minimal ${ratio(rps('sluice-minimal') ?? Number.NaN, peer)}, bare ${ratio(rps('bare-proxy') ?? Number.NaN, peer)}` }
}

export function issue18Goals(f: RunFigures): Goal[] {
  const goals: Goal[] = [
    cpuGoal('full CPU/req ≤ 1.3× bare, non-stream (32 c)', f.json, 'sluice-full', 1.3),
    cpuGoal('full CPU/req ≤ 1.5× bare, stream (32 c)', f.stream, 'sluice-full', 1.5),
    cpuGoal('minimal CPU/req ≤ 1.15× bare, non-stream', f.json, 'sluice-minimal', 1.15),
    peerGoal('full req/s ≥ 8× Portkey, non-stream (32 c)', f.json),
    peerGoal('full req/s ≥ 8× Portkey, stream (32 c)', f.stream),
  ]

  const seq = f.sequential
  if (seq?.get('direct') && seq.get('bare-proxy') && seq.get('sluice-full')) {
    const add = (n: string) => seq.get(n)!.median - seq.get('direct')!.median
    const minimal = seq.get('sluice-minimal') ? `, minimal ${add('sluice-minimal').toFixed(3)} ms` : ''
    goals.push({ name: 'sequential added median ≤ bare + 0.1 ms', met: add('sluice-full') <= add('bare-proxy') + 0.1, detail: `full ${add('sluice-full').toFixed(3)} ms vs bare ${add('bare-proxy').toFixed(3)} ms${minimal}` })
  } else goals.push({ name: 'sequential added median ≤ bare + 0.1 ms', ...NOT_RUN })

  const most = Math.max(0, ...f.realistic.keys())
  const at5000 = f.realistic.get(5000)
  const shown = at5000 ?? f.realistic.get(most)
  const label = (n: string) => `${n} at 5,000 streams`
  const realisticDetail = (pick: (a: NonNullable<ReturnType<RealisticSummary['added']['get']>>) => number, digits: number, unit: string) => {
    if (!shown) return 'not run'
    const part = (n: string) => (shown.added.get(n) ? `${n.replace('sluice-', '')} ${fixed(pick(shown.added.get(n)!), digits)} ${unit}` : undefined)
    return `${at5000 ? '' : `(5,000 not run; at ${shown.streams}) `}${f.realisticRate ? `(at ${f.realisticRate} events/s) ` : ''}${['sluice-full', 'sluice-minimal', 'bare-proxy', 'nginx', 'portkey'].map(part).filter(Boolean).join(', ')}`
  }
  // When the mock and the client alone need most of the machine, the run measured the machine: no verdict.
  const machineBound = at5000?.loaderCores !== undefined && at5000.loaderCores >= 1.8
  const bound = machineBound ? ` — machine-bound: the mock and the client alone need ~${at5000!.loaderCores!.toFixed(1)} cores of 2 at this event rate` : ''
  const full5000 = f.realisticRate || machineBound ? undefined : at5000?.added.get('sluice-full')
  goals.push({ name: label('added TTFB p99 ≤ 5 ms'), met: full5000 ? full5000.ttfb.p99 <= 5 : undefined, detail: realisticDetail((a) => a.ttfb.p99, 2, 'ms') + bound })
  goals.push({ name: label('RSS ≤ 30 KB per open stream'), met: full5000 && Number.isFinite(full5000.kbPerStream) ? full5000.kbPerStream <= 30 : undefined, detail: realisticDetail((a) => a.kbPerStream, 1, 'KB') + bound })

  const w = f.workers
  const single = f.json?.get('sluice-minimal')
  goals.push({
    name: '--workers 2 (no target: what it gives)', met: undefined,
    detail: w?.error ? `did not start: ${w.error}` : w?.json && single ? `non-stream ${ratio(w.json.load.rps, single.load.rps)} req/s, ${ratio(w.json.gatewayUs ?? Number.NaN, single.gatewayUs)} CPU/req of one process${w.stream && f.stream?.get('sluice-minimal') ? `; stream ${ratio(w.stream.load.rps, f.stream.get('sluice-minimal')!.load.rps)} req/s` : ''} (cores shared with the load generator)` : 'not run',
  })

  if (f.big) {
    const minimal = f.big.growth.get('sluice-minimal')
    goals.push({
      name: `flat RSS over a ${f.big.bigMB} MB stream (growth < 10 %)`, met: minimal === undefined ? undefined : minimal < f.big.bigMB * 1024 * 1024 * 0.1,
      detail: [...f.big.growth].map(([n, g]) => `${n.replace('sluice-', '')} ${(g / 1048576).toFixed(1)} MB`).join(', '),
    })
  }
  return goals
}
