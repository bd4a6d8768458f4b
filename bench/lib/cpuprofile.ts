/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, the most
 * inclusive time (each function counted once per sample, so recursion does not inflate it), and self time by
 * where the code lives (a package, a core/ or plugins/ file, node internals, GC).
 * Usage: node --import jiti/register bench/lib/cpuprofile.ts <file.cpuprofile> [top] [skip-ms]
 */
import { readFileSync } from 'node:fs'

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface Cost { name: string; ms: number; share: number }
export interface ProfileSummary { totalMs: number; self: Cost[]; inclusive: Cost[]; byPlace: Cost[] }

const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/').replace(/^.*\/work\/[^/]+\//, '')

function describe(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)'
  if (!frame.url) return name
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
}

/** Where a frame's code lives: `~/pkg`, `core/file.ts`, `plugins/name`, `node:internal`, or a V8 pseudo-frame. */
function place(frame: CallFrame): string {
  const url = frame.url
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)'
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return `~/${pkg[1]}`
  const own = /\/(core\/[^/]+|plugins\/[^/]+|bench\/[^/]+|bin\/[^/]+)/.exec(url)
  return own ? own[1]! : shortUrl(url)
}

/** `skipMs`: ignore the first samples (start-up: module loading, config evaluation), so only the hot path counts. */
export function summarise(profile: CpuProfile, top = 20, skipMs = 0): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id)
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const places = new Map<string, number>()
  let total = 0
  let elapsed = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    elapsed += ms
    if (elapsed < skipMs) continue
    const leaf = byId.get(profile.samples[i]!)
    if (!leaf || ms <= 0) continue
    total += ms
    const leafName = describe(leaf.callFrame)
    self.set(leafName, (self.get(leafName) ?? 0) + ms)
    const where = place(leaf.callFrame)
    places.set(where, (places.get(where) ?? 0) + ms)
    const seen = new Set<string>()
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const name = describe(byId.get(id)!.callFrame)
      if (seen.has(name)) continue
      seen.add(name)
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms)
    }
  }
  const rank = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ name, ms, share: ms / total }))
  return { totalMs: total, self: rank(self), inclusive: rank(inclusive), byPlace: rank(places) }
}

export function printSummary(summary: ProfileSummary): void {
  const line = (c: Cost) => `${(100 * c.share).toFixed(1).padStart(5)} %  ${c.ms.toFixed(0).padStart(7)} ms  ${c.name}`
  console.log(`total sampled: ${summary.totalMs.toFixed(0)} ms`)
  console.log('\n### Self time by place (package / file)')
  for (const c of summary.byPlace) console.log(line(c))
  console.log('\n### Top functions by self time')
  for (const c of summary.self) console.log(line(c))
  console.log('\n### Top functions by inclusive time')
  for (const c of summary.inclusive) console.log(line(c))
}

export function summariseFile(file: string, top = 20, skipMs = 0): ProfileSummary {
  return summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top, skipMs)
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith('bench/lib/cpuprofile.ts')) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node --import jiti/register bench/lib/cpuprofile.ts <file.cpuprofile> [top]')
    process.exit(1)
  }
  printSummary(summariseFile(file, Number(process.argv[3] ?? 25), Number(process.argv[4] ?? 0)))
}
