/**
 * The parts of the fleet test: nginx (Debian's package) run unprivileged from deploy/nginx.conf, gateway replicas
 * as real `sluice start` processes on fixed ports (nginx needs them; each taken free from the OS first), and
 * load from the official `openai` client, every request remembered with its own correlation id.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import OpenAI from 'openai'

export const root = resolve(import.meta.dirname, '../..')

export function findNginx(): string | undefined {
  for (const path of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx']) if (existsSync(path)) return path
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim()
  return found || undefined
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => done(port))
    })
  })
}

export interface Nginx {
  url: string
  stop(): Promise<void>
  errors(): string
}

/** deploy/nginx.conf with its placeholders filled, run in the foreground with everything in a temp folder. */
export async function startNginx(binary: string, upstreamPorts: number[]): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'sluice-fleet-nginx-'))
  chmodSync(prefix, 0o755) // when run as root, nginx's workers run as nobody
  const port = await freePort()
  const upstreams = upstreamPorts.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n    ')
  // The placeholders outside comments (the file's header shows them in a sed example).
  const conf = readFileSync(join(root, 'deploy/nginx.conf'), 'utf8').split('\n').map((line) => line.trimStart().startsWith('#') ? line
    : line.replaceAll('{{prefix}}', prefix).replaceAll('{{listen}}', `127.0.0.1:${port}`).replaceAll('{{upstreams}}', upstreams)).join('\n')
  const file = join(prefix, 'nginx.conf')
  writeFileSync(file, conf)
  const child = spawn(binary, ['-p', prefix, '-c', file, '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => { output += d })
  child.stderr!.on('data', (d) => { output += d })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${output}`)
    try {
      await fetch(`${url}/health`)
      break
    } catch {
      if (i > 100) throw new Error(`nginx did not answer: ${output}`)
      await sleep(50)
    }
  }
  return {
    url,
    errors: () => { try { return readFileSync(join(prefix, 'error.log'), 'utf8') } catch { return '' } },
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT')
      await exited
      rmSync(prefix, { recursive: true, force: true })
    },
  }
}

export class Replica {
  child?: ChildProcess
  exited?: Promise<number | null>
  output = ''

  constructor(readonly name: string, readonly port: number, private readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** `sluice start` on this replica's port; resolves once it says it listens and `/ready` answers 200. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(root, 'bin/sluice.mjs'), 'start', '--config', 'test/configs/fleet.config.ts', '--port', String(this.port)], {
      cwd: root, env: { ...process.env, NODE_ENV: 'production', SLUICE_REPLICA: this.name, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)))
    await new Promise<void>((done, fail) => {
      const onData = (data: Buffer) => {
        this.output += data.toString()
        if (/listening on http/.test(this.output)) done()
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', onData)
      child.once('exit', (code) => fail(new Error(`replica ${this.name} exited ${code} before listening: ${this.output}`)))
    })
    for (;;) {
      const ready = await fetch(`${this.url}/ready`).then((r) => r.status, () => 0)
      if (ready === 200) return
      await sleep(50)
    }
  }

  /** SIGTERM and wait for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return this.child?.exitCode ?? null
    this.child.kill(signal)
    return this.exited!
  }
}

export interface Outcome {
  /** The correlation id this client sent (`x-client-request-id`). */
  cid: string
  stream: boolean
  ok: boolean
  status?: number
  /** The gateway's own id (`x-request-id`), when an answer came. */
  id?: string
  /** The replica that answered, `127.0.0.1:port` (nginx's `x-sluice-upstream`: the last one it tried). */
  upstream?: string
  error?: string
}

export function clientFor(url: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 })
}

let sequence = 0

/**
 * One chat request (streamed or not) through the official client; ok only when the whole answer came back
 * (the echo provider repeats the prompt: a cut stream is caught by its text).
 */
export async function chat(client: OpenAI, { stream, model = 'echo/echo-1', words = 12 }: { stream: boolean; model?: string; words?: number }): Promise<Outcome> {
  const cid = `fleet-${process.pid}-${++sequence}`
  const prompt = Array.from({ length: words }, (_, i) => `w${i}`).join(' ') + ` ${cid}`
  const outcome: Outcome = { cid, stream, ok: false }
  const options = { headers: { 'x-client-request-id': cid } }
  try {
    if (stream) {
      const { data, response } = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: prompt }] }, options).withResponse()
      outcome.status = response.status
      outcome.id = response.headers.get('x-request-id') ?? undefined
      outcome.upstream = lastUpstream(response.headers)
      let text = ''
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? ''
      outcome.ok = text.includes(cid)
      if (!outcome.ok) outcome.error = `stream ended early: ${JSON.stringify(text.slice(-60))}`
    } else {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] }, options).withResponse()
      outcome.status = response.status
      outcome.id = response.headers.get('x-request-id') ?? undefined
      outcome.upstream = lastUpstream(response.headers)
      outcome.ok = (data.choices[0]?.message?.content ?? '').includes(cid)
      if (!outcome.ok) outcome.error = 'answer without the prompt'
    }
  } catch (error) {
    if (error instanceof OpenAI.APIError) {
      outcome.status = error.status
      outcome.id = error.headers?.get('x-request-id') ?? undefined
    }
    outcome.error = (error as Error)?.message ?? String(error)
  }
  return outcome
}

function lastUpstream(headers: Headers): string | undefined {
  return headers.get('x-sluice-upstream')?.split(',').at(-1)?.trim() || undefined
}

/** `clients` loops of mixed traffic (every other request streamed) until `stop()`; returns every outcome. */
export function load(client: OpenAI, clients: number) {
  const outcomes: Outcome[] = []
  let running = true
  const loops = Array.from({ length: clients }, async (_, i) => {
    for (let n = 0; running; n++) outcomes.push(await chat(client, { stream: (i + n) % 2 === 0 }))
  })
  return {
    outcomes,
    async stop(): Promise<Outcome[]> {
      running = false
      await Promise.all(loops)
      return outcomes
    },
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
