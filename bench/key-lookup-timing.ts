/**
 * Does a refused key tell an unknown id from a wrong secret by its timing? Two measurements, interleaved so
 * drift hits both cases alike:
 *   - `authenticate()` on a KeyStore over the fs driver (the default storage), in process;
 *   - the same refusals over HTTP through a real gateway (keys() + echo, fs storage), keep-alive.
 * Cases: a wrong secret for a key that exists (and is cached: its owner uses it), an unknown id that is new on
 * every attempt, and one unknown id repeated.
 *
 *   node --import jiti/register bench/key-lookup-timing.ts [attempts=4000]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'node:http'
import { createStorage, prefixStorage } from 'unstorage'
import fsDriver from 'unstorage/drivers/fs'
import { realClock } from '../core/clock.ts'
import { createLogger } from '../core/logger.ts'
import { resolveConfig } from '../core/config.ts'
import { startServer } from '../core/server.ts'
import { echo } from '../plugins/providers/index.ts'
import { keys } from '../plugins/keys/index.ts'
import { authenticate } from '../plugins/keys/auth.ts'
import { KeyStore } from '../plugins/keys/key-store.ts'
import { formatKey, newKeyId, newSecret } from '../plugins/keys/key-format.ts'

const ATTEMPTS = Number(process.argv[2] ?? 4000)
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef'

type Case = 'wrong secret' | 'unknown id (new each time)' | 'unknown id (repeated)'
const CASES: Case[] = ['wrong secret', 'unknown id (new each time)', 'unknown id (repeated)']

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return `median ${at(0.5).toFixed(1).padStart(7)} µs   p90 ${at(0.9).toFixed(1).padStart(7)} µs`
}

function tokens(id: string) {
  const repeatedUnknown = formatKey(newKeyId(), newSecret())
  return (which: Case) =>
    which === 'wrong secret' ? formatKey(id, newSecret())
      : which === 'unknown id (new each time)' ? formatKey(newKeyId(), newSecret())
        : repeatedUnknown
}

async function inProcess(dir: string) {
  const storage = prefixStorage(createStorage({ driver: fsDriver({ base: join(dir, 'kv-direct') }) }), 'keys')
  const store = new KeyStore({ storage, clock: realClock, positiveTtlMs: 1000 })
  const { record, key } = await store.create({ name: 'owner' })
  const next = tokens(record.id)
  const samples = new Map<Case, number[]>(CASES.map((c) => [c, []]))
  for (let i = 0; i < ATTEMPTS; i++) {
    await authenticate(store, key, Date.now()) // the owner keeps the key cached, as live traffic does
    for (const which of CASES) {
      const token = next(which)
      const started = process.hrtime.bigint()
      await authenticate(store, token, Date.now()).catch(() => {})
      samples.get(which)!.push(Number(process.hrtime.bigint() - started) / 1000)
    }
  }
  console.log(`authenticate(), fs storage, ${ATTEMPTS} attempts each`)
  for (const which of CASES) console.log(`  ${which.padEnd(28)} ${summary(samples.get(which)!)}`)
}

async function overHttp(dir: string) {
  const server = await startServer(resolveConfig({
    server: { port: 0 },
    adminKey: ADMIN_KEY,
    storage: { driver: 'fs', base: join(dir, 'kv-http') },
    logLevel: 'silent',
    plugins: [echo(), keys()],
  }), { logger: createLogger('silent') })
  const created = await fetch(`${server.url}/admin/keys`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'owner' }),
  }).then((r) => r.json()) as { id: string; key: string }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const body = JSON.stringify({ model: 'echo/m', messages: [{ role: 'user', content: 'hi' }] })
  const send = (token: string) => new Promise<number>((done, fail) => {
    const started = process.hrtime.bigint()
    const req = request(`${server.url}/v1/chat/completions`, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => done(Number(process.hrtime.bigint() - started) / 1000))
    })
    req.on('error', fail)
    req.end(body)
  })
  const next = tokens(created.id)
  const samples = new Map<Case, number[]>(CASES.map((c) => [c, []]))
  for (let i = 0; i < ATTEMPTS; i++) {
    await send(created.key)
    for (const which of CASES) samples.get(which)!.push(await send(next(which)))
  }
  console.log(`HTTP through a gateway (keys + echo, fs storage), ${ATTEMPTS} attempts each`)
  for (const which of CASES) console.log(`  ${which.padEnd(28)} ${summary(samples.get(which)!)}`)
  agent.destroy()
  await server.close()
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-key-timing-'))
try {
  await inProcess(dir)
  await overHttp(dir)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
