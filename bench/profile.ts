/**
 * `npm run bench -- --profile [--config full|minimal] [--stream] [--seconds N] [--keep]`: runs one gateway under
 * `node --cpu-prof` while autocannon (its own process) loads it at 32 connections, then prints where the CPU
 * went. The .cpuprofile is kept (in the OS temp folder) with --keep (open it in Chrome DevTools or speedscope).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { startMock, startSluice, type Started } from './lib/processes.ts'
import { autocannon, type Target } from './lib/load.ts'
import { printSummary, summariseFile } from './lib/cpuprofile.ts'
import { fixed } from './lib/report.ts'

const flag = (argv: string[], name: string) => {
  const at = argv.indexOf(name)
  return at >= 0 ? argv[at + 1] : undefined
}

export async function profile(argv: string[]): Promise<void> {
  const which = flag(argv, '--config') ?? 'full'
  const stream = argv.includes('--stream')
  const seconds = Number(flag(argv, '--seconds') ?? (argv.includes('--quick') ? 5 : 15))
  const keep = argv.includes('--keep')
  const dir = keep ? join(os.tmpdir(), 'sluice-profiles') : mkdtempSync(join(os.tmpdir(), 'sluice-prof-'))
  mkdirSync(dir, { recursive: true })
  const scratch = mkdtempSync(join(os.tmpdir(), 'sluice-bench-'))
  const key = `sk-bench-${randomBytes(24).toString('hex')}`
  const before = new Set(readdirSync(dir))
  const children: Started[] = []
  let skipMs = 0
  console.log(`# CPU profile of sluice (${which} config), ${stream ? 'stream' : 'non-stream'}, 32 connections, ${seconds} s — load average ${os.loadavg().map((n) => n.toFixed(2)).join(' ')}`)
  try {
    const mock = await startMock()
    children.push(mock)
    const spawned = performance.now()
    const gateway = await startSluice(`bench/configs/${which}.config.ts`, { BENCH_UPSTREAM_URL: `${mock.url}/v1`, BENCH_KEY: key, BENCH_SCRATCH: scratch }, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
    children.push(gateway)
    const target: Target = { name: which, url: gateway.url, headers: { authorization: `Bearer ${key}` }, pid: gateway.pid }
    await autocannon(target, { connections: 32, seconds: 2, stream }) // warm-up (JIT): left out of the summary
    skipMs = performance.now() - spawned
    const result = await autocannon(target, { connections: 32, seconds, stream })
    console.log(`under profiling: ${fixed(result.rps)} req/s, p99 ${result.p99} ms, errors ${result.errors + result.non2xx}`)
    await gateway.stop() // SIGTERM → process.exit(0) → the profile is written
  } finally {
    await Promise.all(children.map((c) => c.stop()))
    rmSync(scratch, { recursive: true, force: true })
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f))
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`)
  console.log(`(start-up and warm-up, the first ${(skipMs / 1000).toFixed(1)} s of the profile, left out)`)
  printSummary(summariseFile(join(dir, file), 25, skipMs))
  if (keep) console.log(`\nprofile kept: ${join(dir, file)}`)
  else rmSync(dir, { recursive: true, force: true })
}
