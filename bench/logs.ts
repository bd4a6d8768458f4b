/**
 * What the request log costs the gateway, in one run: gateway CPU per request (from /proc, the writer and SQLite
 * included) for three gateways in their own processes —
 *   off      no logs() plugin (the request path as it is without it)
 *   usage    usage() instead: a record per request into SQLite through the same writer, for comparison
 *   meta     logs() with content off (an entry per request: record, attempts)
 *   content  logs() keeping every request's messages and answer (redacted, capped, indexed for search)
 * non-stream and stream, in interleaved rounds; the median round is printed, with each ÷ off.
 *
 *   node --import jiti/register bench/logs.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { startMock, startSluice, type Started } from './lib/processes.ts'
import { cpuSeconds } from './lib/proc.ts'
import { median } from './lib/load.ts'

const quick = process.argv.includes('--quick')
const { rounds, perRound, concurrency } = quick ? { rounds: 3, perRound: 1000, concurrency: 16 } : { rounds: 7, perRound: 3000, concurrency: 16 }
const MODES = ['off', 'usage', 'meta', 'content'] as const
type Mode = (typeof MODES)[number]

let sequence = 0
async function one(agent: Agent, url: string, stream: boolean): Promise<void> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'mock/bench', stream, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `Question ${++sequence} about foxes and rivers.` }] }),
    headers: { 'content-type': 'application/json' },
    dispatcher: agent,
  })
  await response.body.text()
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
}

async function round(gateway: Started, agent: Agent, stream: boolean, count: number): Promise<number> {
  let next = 0
  const before = cpuSeconds(gateway.pid)
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next++
      await one(agent, gateway.url, stream)
    }
  }))
  await new Promise((resolve) => setTimeout(resolve, 700)) // let the writer store the round's last batches
  return ((cpuSeconds(gateway.pid) - before) * 1e6) / count
}

const started: Started[] = []
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-logs-'))
try {
  const mock = await startMock()
  started.push(mock)
  const gateways = {} as Record<Mode, Started>
  for (const mode of MODES) {
    gateways[mode] = await startSluice('bench/configs/logs.config.ts', { BENCH_UPSTREAM_URL: `${mock.url}/v1`, BENCH_LOGS_MODE: mode, BENCH_LOGS_DIR: dir })
    started.push(gateways[mode])
  }
  const agent = new Agent({ connections: concurrency * MODES.length })
  console.log(`logs bench: ${rounds} rounds × ${perRound} requests per gateway, ${concurrency} at a time`)
  for (const stream of [false, true]) {
    for (const mode of MODES) await round(gateways[mode], agent, stream, 500) // warm-up
    const samples = new Map<Mode, number[]>(MODES.map((mode) => [mode, []]))
    for (let r = 0; r < rounds; r++) for (const mode of MODES) samples.get(mode)!.push(await round(gateways[mode], agent, stream, perRound))
    const us = Object.fromEntries(MODES.map((mode) => [mode, median(samples.get(mode)!)])) as Record<Mode, number>
    console.log(`\n${stream ? 'stream' : 'non-stream'}: gateway CPU per request (median of ${rounds} rounds)`)
    for (const mode of MODES) console.log(`  ${mode.padEnd(8)} ${us[mode].toFixed(0).padStart(5)} µs   ÷ off ${(us[mode] / us.off).toFixed(2)}   (rounds: ${samples.get(mode)!.map((v) => v.toFixed(0)).join(', ')})`)
  }
  await agent.close()
} finally {
  await Promise.all(started.map((child) => child.stop()))
  rmSync(dir, { recursive: true, force: true })
}
