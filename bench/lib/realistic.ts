/**
 * The realistic-latency scenario: N concurrent long-lived streams through each target, the mock answering after
 * 20–200 ms and streaming 30–80 events per second (bench/lib/paced.ts), the client in its own process
 * (bench/stream-client.ts). What counts is added latency — stream by stream against the same stream sent
 * directly to the mock in the same run — and the gateway's memory per open stream, not req/s.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { StreamClientOptions, StreamClientResult } from '../stream-client.ts'
import { median, percentile, type Target } from './load.ts'
import { cpuSeconds, processTree, treeCpuSeconds, treeRssBytes } from './proc.ts'
import { node, spawnRaised, stopChild } from './processes.ts'
import { pacedShape, type PacedPlan } from './paced.ts'

export interface RealisticSettings {
  streams: number
  /** Streams are opened evenly over this long (arrivals at streams / rampMs per ms). */
  rampMs: number
  /** The mock's pacing; its eventMs is longer than the ramp, so all streams are open at once. */
  plan: PacedPlan
}

export interface RealisticRun {
  target: string
  result: StreamClientResult
  /** Gateway tree RSS: steady before, median once every stream had its first byte (`streams` of them open then), peak over the run. */
  rss?: { before: number; open: number; streams: number; peak: number }
  cores: { gateway?: number; mock: number; client: number }
  /** CPU µs per event the client received (failed streams' events included), by process. */
  usPerEvent: { gateway?: number; mock: number; client: number }
  seconds: number
}

async function steadyRss(pids: number[], samples = 5, everyMs = 100): Promise<number> {
  const values: number[] = []
  for (let i = 0; i < samples; i++) {
    values.push(treeRssBytes(pids))
    await sleep(everyMs)
  }
  return median(values.filter(Number.isFinite))
}

/** Runs the stream client against one target and reads the gateway's memory once every stream is open. */
export async function realisticRun(target: Target, mockPid: number, settings: RealisticSettings): Promise<RealisticRun> {
  const gateway = target.pid === undefined ? undefined : processTree(target.pid)
  const before = gateway && (await steadyRss(gateway))
  const options: StreamClientOptions = {
    url: target.url, headers: target.headers, count: settings.streams, rampMs: settings.rampMs, plan: settings.plan,
    // Past this the machine is not keeping up; waiting longer would only make the run longer.
    timeoutMs: settings.rampMs + settings.plan.eventMs + 30_000,
  }
  const child = spawnRaised(node, ['--import', 'jiti/register', 'bench/stream-client.ts', JSON.stringify(options)])
  let peak = 0
  const sampler = setInterval(() => { if (gateway) peak = Math.max(peak, treeRssBytes(gateway)) }, 100)
  // The CPU window opens when the client starts its measured streams (after its start-up and warm-up).
  let cpuBefore: { gateway?: number; mock: number; at: number } | undefined
  let open: Promise<number> | undefined
  let openStreams = 0
  let output = ''
  let errorText = ''
  child.stderr!.on('data', (d: Buffer) => { errorText += d })
  const result = await new Promise<StreamClientResult>((done, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d
      if (!cpuBefore && /^start$/m.test(output)) cpuBefore = { gateway: gateway && treeCpuSeconds(gateway), mock: cpuSeconds(mockPid), at: performance.now() }
      const opened = /^open (\d+)$/m.exec(output)
      if (!open && opened && gateway) {
        openStreams = Number(opened[1])
        open = steadyRss(gateway)
      }
      const line = /^result (.*)\n/m.exec(output)
      if (!line) return
      try {
        done(JSON.parse(line[1]!))
      } catch (error) {
        fail(new Error(`stream client: unreadable result (${(error as Error).message})`))
      }
    })
    child.on('exit', (code) => fail(new Error(`stream client exited ${code}: ${errorText.trim().split('\n').slice(-3).join(' ')}`)))
  }).finally(() => clearInterval(sampler))
  const seconds = (performance.now() - cpuBefore!.at) / 1000
  const cores = {
    gateway: gateway && (treeCpuSeconds(gateway) - cpuBefore!.gateway!) / seconds,
    mock: (cpuSeconds(mockPid) - cpuBefore!.mock) / seconds,
    client: result.cpuSeconds / result.seconds,
  }
  const events = result.events
  const perEvent = (used: number) => (events ? (used * seconds * 1e6) / events : Number.NaN)
  const usPerEvent = { gateway: cores.gateway === undefined ? undefined : perEvent(cores.gateway), mock: perEvent(cores.mock), client: perEvent(cores.client) }
  await stopChild(child)
  const rss = gateway && before !== undefined ? { before, open: open ? await open : Number.NaN, streams: openStreams, peak } : undefined
  return { target: target.name, result, rss, cores, usPerEvent, seconds }
}

export interface Added {
  p50: number
  p99: number
  pairs: number
}

/** Events per second the mock sends with every stream open: what the machine must carry, three processes deep. */
export function eventsPerSecond(settings: RealisticSettings): number {
  let sum = 0
  for (let i = 0; i < settings.streams; i++) sum += pacedShape(settings.plan, i).rate
  return sum
}

/** Stream i through the target minus stream i sent directly: the same delay and rate, so the rest is the gateway's. */
export function added(target: Array<number | null>, direct: Array<number | null>): Added {
  const differences: number[] = []
  for (let i = 0; i < target.length; i++) {
    const t = target[i]
    const d = direct[i]
    if (t != null && d != null) differences.push(t - d)
  }
  if (!differences.length) return { p50: Number.NaN, p99: Number.NaN, pairs: 0 }
  return { p50: percentile(differences, 50), p99: percentile(differences, 99), pairs: differences.length }
}

/** Percentile over the streams that completed. */
export function over(values: Array<number | null>, p: number): number {
  const valid = values.filter((v): v is number => v != null)
  return valid.length ? percentile(valid, p) : Number.NaN
}
