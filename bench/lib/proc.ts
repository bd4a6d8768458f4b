/** What /proc tells about a child process: resident memory and CPU time (Linux only). */
import { readFileSync } from 'node:fs'

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

/** User + system CPU seconds used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return Number.NaN
  }
}

/** Measures the CPU share (in cores) each process used while `work` ran. */
export async function withCpu<T>(pids: Record<string, number>, work: () => Promise<T>): Promise<{ result: T; cores: Record<string, number>; seconds: number }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]))
  const start = performance.now()
  const result = await work()
  const seconds = (performance.now() - start) / 1000
  const cores = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, (cpuSeconds(pid) - before[name]!) / seconds]))
  return { result, cores, seconds }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the first, peak and last samples. */
export function sampleRss(pid: number, everyMs = 25) {
  const samples: number[] = [rssBytes(pid)]
  const timer = setInterval(() => samples.push(rssBytes(pid)), everyMs)
  return {
    stop() {
      clearInterval(timer)
      samples.push(rssBytes(pid))
      const valid = samples.filter(Number.isFinite)
      return { start: valid[0]!, peak: Math.max(...valid), end: valid[valid.length - 1]!, samples: valid.length }
    },
  }
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
