/**
 * Helpers for the keys end-to-end suites: gateway processes spawned with `bin/sluice.mjs start`, one-shot
 * `sluice` commands, an admin API client over HTTP, and per-run temp directories.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startMockOpenAI } from '../fixtures/mock-openai.ts'
import { startGatewayFromFile } from '../helpers/gateway.ts'

export const ROOT = resolve(import.meta.dirname, '../..')
export const ADMIN_KEY = 'admin-key-for-keys-e2e-0123456789'
export const KEY_FORMAT = /^sk-sluice-[0-9A-Za-z]{12}-[0-9A-Za-z]{43}$/

export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `sluice-keys-${label}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export interface GatewayProcess {
  url: string
  child: ChildProcess
  output(): string
  /** SIGTERM, then wait for the exit (SIGKILL if it takes too long). */
  stop(): Promise<void>
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, NODE_ENV: 'test', ...env }
}

/** `sluice start --config <file> --port 0`; resolves with the URL it prints. */
export function spawnGateway(config: string, env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [resolve(ROOT, 'bin/sluice.mjs'), 'start', '--config', config, '--port', '0'], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(killer)
  }
  return new Promise((done, fail) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = /listening on (http:\/\/\S+?)(,|\s|$)/.exec(output)
      if (match) done({ url: match[1]!, child, output: () => output, stop })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => fail(new Error(`gateway exited (${code}) before listening: ${output}`)))
  })
}

export interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `sluice <args>` to completion. */
export function runSluice(args: string[], env: Record<string, string>): Promise<CommandResult> {
  const child = spawn(process.execPath, [resolve(ROOT, 'bin/sluice.mjs'), ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((done) => child.once('exit', (code) => done({ code, stdout, stderr })))
}

export interface AdminResponse {
  status: number
  body: any
  text: string
}

/** The admin API over HTTP, with the admin key (or the given one). */
export function adminApi(baseUrl: string, adminKey = ADMIN_KEY) {
  return async (method: string, path: string, body?: unknown, key: string | null = adminKey): Promise<AdminResponse> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (key) headers.authorization = `Bearer ${key}`
    const response = await fetch(`${baseUrl}/admin${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    return { status: response.status, body: parsed, text }
  }
}

/** A raw chat completion with a key in the given header. */
export function chat(baseUrl: string, key: string | undefined, body: Record<string, unknown>, header: 'authorization' | 'x-api-key' = 'authorization') {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (key) headers[header] = header === 'authorization' ? `Bearer ${key}` : key
  return fetch(`${baseUrl}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) })
}

/** The mock OpenAI upstream and a gateway from keys-e2e.config.ts (keys + usage on SQLite in a temp dir). */
export async function startKeysRig(name: string) {
  const dir = tempDir(name)
  const mock = await startMockOpenAI()
  const gateway = await startGatewayFromFile('keys-e2e.config.ts', { SLUICE_KEYS_TEST_DIR: dir.path, SLUICE_KEYS_ADMIN_KEY: ADMIN_KEY, MOCK_OPENAI_URL: mock.url })
  return {
    mock,
    gateway,
    /** The run's directory: `usage.db` (SQLite usage store) and `kv/` (key storage). */
    dir: dir.path,
    admin: adminApi(gateway.url),
    async close() {
      await gateway.close()
      await mock.close()
      dir.remove()
    },
  }
}
