/**
 * Load against a gateway child process for the SIGTERM runs: a mix of requests (plain, streamed, long streams
 * still running at shutdown, upstream errors, upstream deaths, client aborts), each remembered with whether the
 * gateway accepted it (answered with headers) and what the upstream reported.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { usageFor } from '../fixtures/mock-openai.ts'

export const root = resolve(import.meta.dirname, '../..')

export type Kind = 'plain' | 'stream' | 'long' | 'error' | 'die' | 'abort'

export interface Outcome {
  kind: Kind
  text: string
  /** The gateway answered with headers (any status); false when the connection was refused or cut first. */
  accepted: boolean
  id?: string
  status?: number
  /** Usage the client saw in the body or the stream's usage chunk (the upstream's numbers). */
  clientUsage?: { prompt_tokens: number; completion_tokens: number }
}

/** What the mock upstream reports for a successful reply to `text`. */
export const upstreamUsage = (text: string) => usageFor(text, `echo: ${text}`)

const TEXT: Record<Kind, (n: number) => string> = {
  plain: (n) => `plain request number ${n}`,
  stream: (n) => `streamed request ${n} [slow 3]`,
  long: (n) => `long stream ${n} [slow 30]`,
  error: (n) => `failing ${n} [error 500]`,
  die: (n) => `dying ${n} [die]`,
  abort: (n) => `abandoned ${n} [slow 30]`,
}

let sequence = 0

/** Sends one request of `kind` and reads its answer to the end (or aborts it after two chunks). */
export async function send(url: string, kind: Kind, onHeaders?: () => void): Promise<Outcome> {
  const text = TEXT[kind](++sequence)
  const stream = kind !== 'plain' && kind !== 'error'
  const controller = new AbortController()
  const outcome: Outcome = { kind, text, accepted: false }
  let response: Response
  try {
    response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'openai/gpt-4o-mini', stream, ...(stream && { stream_options: { include_usage: true } }),
        messages: [{ role: 'user', content: text }],
      }),
      signal: controller.signal,
    })
  } catch {
    return outcome // refused or cut before any header: the gateway did not accept it
  }
  outcome.accepted = true
  outcome.id = response.headers.get('x-request-id') ?? undefined
  outcome.status = response.status
  onHeaders?.()
  try {
    if (!stream) {
      const body = await response.json()
      if (body.usage) outcome.clientUsage = body.usage
      return outcome
    }
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let sse = ''
    let chunks = 0
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      sse += decoder.decode(value, { stream: true })
      if (kind === 'abort' && ++chunks === 2) {
        controller.abort()
        break
      }
    }
    for (const line of sse.split('\n')) {
      if (!line.startsWith('data: {')) continue
      const usage = JSON.parse(line.slice(6)).usage
      if (usage) outcome.clientUsage = usage
    }
  } catch {} // a stream cut by the upstream or by our own abort
  return outcome
}

export interface Child {
  child: ChildProcess
  url: string
  exited: Promise<number | null>
  output(): string
}

/**
 * Starts `bin/sluice.mjs start --config <config> --port 0` and reads its URL from the output. NODE_ENV is
 * production (JSON logs, as deployed) unless `env` says otherwise.
 */
export function startGatewayProcess(config: string, env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [resolve(root, 'bin/sluice.mjs'), 'start', '--config', config, '--port', '0'], {
    cwd: root, env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  return new Promise((done, fail) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = /listening on (http:\/\/\S+?)(,|\s|$)/.exec(output)
      if (match) done({ child, url: match[1]!, exited, output: () => output })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => fail(new Error(`gateway exited ${code} before listening: ${output}`)))
  })
}

/**
 * Fires `perKind` requests of every kind at once, sends SIGTERM once `inFlightBeforeSignal` long streams have
 * their headers, keeps sending requests while the gateway shuts down, and returns every outcome and the exit code.
 */
export async function loadWithSigterm(gateway: Child, { perKind = 6, lateRequests = 12 } = {}): Promise<{ outcomes: Outcome[]; code: number | null }> {
  const kinds: Kind[] = ['plain', 'stream', 'long', 'error', 'die', 'abort']
  let longStarted = 0
  let signalled!: () => void
  const longInFlight = new Promise<void>((done) => (signalled = done))
  const wave = kinds.flatMap((kind) => Array.from({ length: perKind }, () => send(gateway.url, kind, kind === 'long'
    ? () => { if (++longStarted === perKind) signalled() }
    : undefined)))
  await longInFlight
  gateway.child.kill('SIGTERM')
  // Requests after the signal: refused (not accepted) once the listener is closed; a few may still get in.
  const late: Array<Promise<Outcome>> = []
  for (let i = 0; i < lateRequests; i++) {
    late.push(send(gateway.url, kinds[i % kinds.length]!))
    await new Promise((r) => setTimeout(r, 5))
  }
  const outcomes = await Promise.all([...wave, ...late])
  return { outcomes, code: await gateway.exited }
}
