/** Load generation in a separate process (autocannon's CLI), and sequential latency rounds. */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { Agent, request } from 'undici'
import { root } from './processes.ts'
import { cpuSeconds } from './proc.ts'

/** One place requests can go: the mock directly, a Sluice instance, or the peer. */
export interface Target {
  name: string
  /** Base URL; requests go to `${url}/v1/chat/completions`. */
  url: string
  headers: Record<string, string>
  /** The gateway's process (absent for the mock itself when it is the target). */
  pid?: number
}

export interface LoadResult {
  rps: number
  /** Requests completed over the whole run. */
  total: number
  /** CPU the load generator itself used, in cores (sampled; a value near 1 means it was the bottleneck). */
  loadgenCores: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

/** The model decides what the mock answers (see bench/mock-upstream.ts). */
export function chatBody(stream: boolean, model = 'mock/bench'): string {
  return JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Say something about foxes.' }] })
}

/** Runs autocannon as its own process against one target (POST /v1/chat/completions). */
export function autocannon(target: Target, { connections, seconds, stream }: { connections: number; seconds: number; stream: boolean }): Promise<LoadResult> {
  const bin = resolve(root, 'node_modules/autocannon/autocannon.js')
  const headers = Object.entries({ 'content-type': 'application/json', ...target.headers }).flatMap(([name, value]) => ['-H', `${name}=${value}`])
  const args = [bin, '-c', String(connections), '-d', String(seconds), '-m', 'POST', ...headers, '-b', chatBody(stream), '--json', `${target.url}/v1/chat/completions`]
  return new Promise((done, fail) => {
    const started = performance.now()
    let cpu = 0
    const child = execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      clearInterval(sampler)
      if (error) return fail(error)
      const json = JSON.parse(stdout)
      done({
        rps: json.requests.average, total: json.requests.total, p50: json.latency.p50, p99: json.latency.p99, errors: json.errors, non2xx: json.non2xx,
        loadgenCores: cpu / ((performance.now() - started) / 1000),
      })
    })
    // The child's CPU can only be read while it lives: keep the last reading.
    const sampler = setInterval(() => {
      const seconds = cpuSeconds(child.pid!)
      if (Number.isFinite(seconds)) cpu = seconds
    }, 100)
  })
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/**
 * One keep-alive request, timed in ms: to the whole body (`until: 'end'`) or to its first chunk
 * (`until: 'first-byte'`, for streams; the rest is still read so the connection can be reused).
 */
async function timed(agent: Agent, target: Target, body: string, until: 'end' | 'first-byte'): Promise<number> {
  const start = process.hrtime.bigint()
  const response = await request(`${target.url}/v1/chat/completions`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', ...target.headers }, dispatcher: agent,
  })
  let elapsed = 0
  for await (const _chunk of response.body) {
    if (!elapsed && until === 'first-byte') elapsed = Number(process.hrtime.bigint() - start) / 1e6
  }
  if (!elapsed) elapsed = Number(process.hrtime.bigint() - start) / 1e6
  if (response.statusCode !== 200) throw new Error(`${target.name}: status ${response.statusCode}`)
  return elapsed
}

export interface LatencySummary {
  /** Median of the per-round medians. */
  median: number
  /** p99 over every request of every round. */
  p99: number
}

/**
 * Interleaved rounds of sequential requests, one round per target in turn, so drift in the machine hits
 * every target alike. Returns, per target, the median of round medians and the p99 over all requests.
 */
export async function sequentialLatency(
  targets: Target[],
  { rounds, perRound, stream = false, until = 'end' }: { rounds: number; perRound: number; stream?: boolean; until?: 'end' | 'first-byte' },
): Promise<Map<string, LatencySummary>> {
  const agent = new Agent({ connections: 1 })
  const body = chatBody(stream)
  const sides = new Map(targets.map((t) => [t.name, { medians: [] as number[], all: [] as number[] }]))
  for (let i = 0; i < 50; i++) for (const target of targets) await timed(agent, target, body, until) // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const times: number[] = []
      for (let i = 0; i < perRound; i++) times.push(await timed(agent, target, body, until))
      sides.get(target.name)!.medians.push(median(times))
      sides.get(target.name)!.all.push(...times)
    }
  }
  await agent.close()
  return new Map([...sides].map(([name, side]) => [name, { median: median(side.medians), p99: percentile(side.all, 99) }]))
}
