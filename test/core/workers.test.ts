/**
 * `sluice start --workers 2`: two worker processes serve one port under a primary that restarts a worker that dies,
 * drains them all on SIGTERM, aggregates their metrics, and stops at once (saying why) when a plugin refuses to run
 * with several workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { eventually } from '../helpers/gateway.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const CONFIG = 'test/configs/workers.config.ts'

interface Cluster { child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }

function startCluster(env: Record<string, string>): Promise<Cluster> {
  const child = spawn(process.execPath, ['bin/sluice.mjs', 'start', '--config', CONFIG, '--port', '0', '--workers', '2'], {
    cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  return new Promise((done, fail) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = /listening on (http:\/\/\S+) \(2 workers\)/.exec(output)
      if (match) done({ child, url: match[1]!, output: () => output, exited })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then((code) => fail(new Error(`exited (${code}) before listening: ${output}`)))
  })
}

/** The primary's worker processes. */
function workerPids(primary: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(primary)]).toString()
  return out.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0)
}

const chat = (url: string) => fetch(`${url}/v1/chat/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'echo/echo-1', messages: [{ role: 'user', content: 'hi' }] }),
})

let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'sluice-workers-')) })
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('sluice start --workers 2', () => {
  it('serves on one port with two workers, sums their metrics, replaces a worker that dies, and drains both on SIGTERM', async () => {
    const cluster = await startCluster({ SLUICE_WORKERS_DIR: dir })
    try {
      await eventually(() => expect(workerPids(cluster.child.pid!)).toHaveLength(2), 10_000)
      const responses = await Promise.all(Array.from({ length: 20 }, () => chat(cluster.url)))
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200))

      // Whichever worker answers /metrics reports both workers' requests.
      await eventually(async () => {
        const text = await (await fetch(`${cluster.url}/metrics`)).text()
        const served = [...text.matchAll(/^sluice_requests_total\{[^}]*status="200"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
        expect(served).toBe(20)
      }, 10_000)

      // Each original worker in turn, the next one only once the replacement serves: the port stays served
      // whichever one dies (workers share the primary's socket; with both gone at once, port 0 would change).
      for (const [slot, victim] of workerPids(cluster.child.pid!).entries()) {
        const restarts = () => cluster.output().match(/is serving again/g)?.length ?? 0
        process.kill(victim, 'SIGKILL')
        await eventually(() => expect(restarts()).toBe(slot + 1), 20_000)
        expect(workerPids(cluster.child.pid!)).not.toContain(victim)
        expect((await chat(cluster.url)).status).toBe(200)
      }

      cluster.child.kill('SIGTERM')
      expect(await cluster.exited).toBe(0)
    } finally {
      cluster.child.kill('SIGKILL')
    }
  }, 60_000)

  it('stops at once, naming the plugin and the fix, when a plugin keeps its state in one process', async () => {
    const start = startCluster({ SLUICE_WORKERS_DIR: dir, SLUICE_WORKERS_MEMORY_GOVERNOR: '1' })
    await expect(start).rejects.toThrow(/governor: the memory store counts in one process.*use store: \{ redis \} with --workers/)
  }, 60_000)
})
