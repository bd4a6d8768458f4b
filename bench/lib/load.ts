/** Load generation in a separate process (autocannon's CLI), and sequential latency rounds. */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { Agent, request } from 'undici'
import { root } from './processes.ts'

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

export function chatBody(stream: boolean): string {
  return JSON.stringify({ model: 'mock/bench', stream, messages: [{ role: 'user', content: 'Say something about foxes.' }] })
}

/** Runs autocannon as its own process against `url` (POST /v1/chat/completions). */
export function autocannon(url: string, { connections, seconds, stream }: { connections: number; seconds: number; stream: boolean }): Promise<LoadResult> {
  const bin = resolve(root, 'node_modules/autocannon/autocannon.js')
  const args = [bin, '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', chatBody(stream), '--json', `${url}/v1/chat/completions`]
  return new Promise((done, fail) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return fail(error)
      const json = JSON.parse(stdout)
      done({ rps: json.requests.average, p50: json.latency.p50, p99: json.latency.p99, errors: json.errors, non2xx: json.non2xx })
    })
  })
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** One keep-alive request, timed in ms. */
async function timed(agent: Agent, url: string, body: string): Promise<number> {
  const start = process.hrtime.bigint()
  const response = await request(`${url}/v1/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent })
  await response.body.arrayBuffer()
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

/**
 * Interleaved rounds of sequential requests, direct and through the gateway, so drift in the machine
 * hits both alike. Returns the median of round medians and the p99 over all requests, per side.
 */
export async function sequentialLatency(direct: string, gateway: string, { rounds, perRound }: { rounds: number; perRound: number }) {
  const agent = new Agent({ connections: 1 })
  const body = chatBody(false)
  const sides = { direct: { medians: [] as number[], all: [] as number[] }, gateway: { medians: [] as number[], all: [] as number[] } }
  for (let i = 0; i < 50; i++) { await timed(agent, direct, body); await timed(agent, gateway, body) } // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [side, url] of [['direct', direct], ['gateway', gateway]] as const) {
      const times: number[] = []
      for (let i = 0; i < perRound; i++) times.push(await timed(agent, url, body))
      sides[side].medians.push(median(times))
      sides[side].all.push(...times)
    }
  }
  await agent.close()
  return {
    direct: { median: median(sides.direct.medians), p99: percentile(sides.direct.all, 99) },
    gateway: { median: median(sides.gateway.medians), p99: percentile(sides.gateway.all, 99) },
  }
}
