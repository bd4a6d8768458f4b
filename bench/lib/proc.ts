/**
 * What /proc tells about a child process (Linux only): resident memory and CPU time. A server that runs as several
 * processes (nginx's master and workers, `sluice start --workers N`'s primary and workers) is read as its process
 * tree: the pid the bench started plus every descendant.
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100 // CLK_TCK on Linux

/** Resident set size in bytes (VmRSS), or NaN when the process is gone or /proc is missing. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** The fields after the parenthesised command name of /proc/<pid>/stat (field 3 of the line is index 0). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** User + system CPU seconds used so far. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid)
  // utime and stime are fields 14 and 15 of the whole line.
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND : Number.NaN
}

/** `pid` and all its descendants (scans /proc once). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>()
  let entries: string[] = []
  try {
    entries = readdirSync('/proc')
  } catch {}
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const parent = Number(statFields(Number(entry))?.[1])
    if (Number.isFinite(parent)) children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }
  const tree: number[] = []
  for (const queue = [pid]; queue.length;) {
    const next = queue.shift()!
    tree.push(next)
    queue.push(...(children.get(next) ?? []))
  }
  return tree
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
/** CPU seconds of a process tree (a descendant that exited meanwhile is no longer counted). */
export const treeCpuSeconds = (pids: number[]) => sum(pids.map(cpuSeconds).filter(Number.isFinite))
/** RSS of a process tree: the sum of its processes' RSS (shared pages counted once per process). */
export const treeRssBytes = (pids: number[]) => {
  const values = pids.map(rssBytes).filter(Number.isFinite)
  return values.length ? sum(values) : Number.NaN
}

/** Measures the CPU share (in cores) each process tree used while `work` ran. */
export async function withCpu<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; cores: Record<string, number>; seconds: number }> {
  const trees = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processTree(pid)]))
  const before = Object.fromEntries(Object.entries(trees).map(([name, tree]) => [name, treeCpuSeconds(tree)]))
  const start = performance.now()
  const result = await work()
  const seconds = (performance.now() - start) / 1000
  const cores = Object.fromEntries(Object.entries(trees).map(([name, tree]) => [name, (treeCpuSeconds(tree) - before[name]!) / seconds]))
  return { result, cores, seconds }
}

/** Samples a process tree's RSS every `everyMs` until stopped; returns the first, peak and last samples. */
export function sampleRss(pid: number, everyMs = 25) {
  const tree = processTree(pid)
  const samples: number[] = [treeRssBytes(tree)]
  const timer = setInterval(() => samples.push(treeRssBytes(tree)), everyMs)
  return {
    stop() {
      clearInterval(timer)
      samples.push(treeRssBytes(tree))
      const valid = samples.filter(Number.isFinite)
      return { start: valid[0]!, peak: Math.max(...valid), end: valid[valid.length - 1]!, samples: valid.length }
    },
  }
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
