/**
 * What a cache hit costs the gateway against a miss, in one run: gateway CPU per request (from /proc) for
 *   hit     the same question again and again (served from the cache)
 *   miss    a new question each time (upstream call, answer collected and stored)
 *   bypass  `cache-control: no-store` (the pipeline with the cache deciding to stay out of the way)
 * non-stream and stream, in interleaved rounds (so drift hits every case alike); the median round is printed,
 * with hit ÷ miss. The gateway and the mock upstream run in their own processes; the load comes from this one.
 *
 *   node --import jiti/register bench/cache.ts [--quick] [--redis]     (--redis: REDIS_URL or redis://127.0.0.1:6379)
 */
import { Agent, request } from 'undici'
import { startMock, startSluice, type Started } from './lib/processes.ts'
import { cpuSeconds } from './lib/proc.ts'
import { median } from './lib/load.ts'

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const redis = argv.includes('--redis') ? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' : undefined
const { rounds, perRound, concurrency } = quick ? { rounds: 3, perRound: 1000, concurrency: 16 } : { rounds: 7, perRound: 3000, concurrency: 16 }

type Case = 'hit' | 'miss' | 'bypass'
const CASES: Case[] = ['hit', 'miss', 'bypass']

let sequence = 0
function body(kind: Case, stream: boolean): string {
  const content = kind === 'miss' ? `Question number ${++sequence} about foxes.` : 'Say something about foxes.'
  return JSON.stringify({ model: 'mock/bench', stream, temperature: 0, messages: [{ role: 'user', content }] })
}

async function one(agent: Agent, url: string, kind: Case, stream: boolean): Promise<string> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    body: body(kind, stream),
    headers: { 'content-type': 'application/json', ...(kind === 'bypass' ? { 'cache-control': 'no-store' } : {}) },
    dispatcher: agent,
  })
  await response.body.text()
  if (response.statusCode !== 200) throw new Error(`${kind}: status ${response.statusCode}`)
  return String(response.headers['x-sluice-cache'])
}

/** `count` requests, `concurrency` at a time; gateway CPU µs per request, and what the cache said of them. */
async function round(gateway: Started, agent: Agent, kind: Case, stream: boolean, count: number) {
  const seen = new Map<string, number>()
  let next = 0
  const before = cpuSeconds(gateway.pid)
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++
      const result = await one(agent, gateway.url, kind, stream)
      seen.set(result, (seen.get(result) ?? 0) + 1)
    }
  }))
  return { cpuUs: ((cpuSeconds(gateway.pid) - before) * 1e6) / count, seen }
}

const started: Started[] = []
try {
  const mock = await startMock()
  started.push(mock)
  const gateway = await startSluice('bench/configs/cache.config.ts', { BENCH_UPSTREAM_URL: `${mock.url}/v1`, ...(redis ? { BENCH_CACHE_REDIS_URL: redis } : {}) })
  started.push(gateway)
  const agent = new Agent({ connections: concurrency })
  console.log(`cache bench: store ${redis ? 'redis' : 'memory'}, ${rounds} rounds × ${perRound} requests per case, ${concurrency} at a time`)

  for (const stream of [false, true]) {
    for (const kind of CASES) await round(gateway, agent, kind, stream, 500) // warm-up (and the hit's entry)
    const samples = new Map<Case, number[]>(CASES.map((kind) => [kind, []]))
    for (let r = 0; r < rounds; r++) {
      for (const kind of CASES) {
        const { cpuUs, seen } = await round(gateway, agent, kind, stream, perRound)
        if ((seen.get(kind) ?? 0) !== perRound) throw new Error(`${kind} round answered ${JSON.stringify([...seen])}`)
        samples.get(kind)!.push(cpuUs)
      }
    }
    const us = Object.fromEntries(CASES.map((kind) => [kind, median(samples.get(kind)!)])) as Record<Case, number>
    console.log(`\n${stream ? 'stream' : 'non-stream'}: gateway CPU per request (median of ${rounds} rounds)`)
    for (const kind of CASES) console.log(`  ${kind.padEnd(7)} ${us[kind].toFixed(0).padStart(5)} µs   (rounds: ${samples.get(kind)!.map((v) => v.toFixed(0)).join(', ')})`)
    console.log(`  hit ÷ miss = ${(us.hit / us.miss).toFixed(2)}   miss ÷ bypass = ${(us.miss / us.bypass).toFixed(2)}`)
  }
  await agent.close()
} finally {
  await Promise.all(started.map((child) => child.stop()))
}
