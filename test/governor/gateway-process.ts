/** Gateway replicas as real processes (`sluice start --port 0`), each read for its URL as lifecycle.test.ts does. */
import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '../..')

export interface GatewayProcess {
  url: string
  child: ChildProcess
  /** Everything the process printed so far. */
  output(): string
  stop(): Promise<void>
}

export function startGatewayProcess(config: string, env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [resolve(root, 'bin/sluice.mjs'), 'start', '--config', config, '--port', '0'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done()
      child.once('exit', () => done())
      child.kill('SIGKILL')
    })
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      void stop()
      fail(new Error(`gateway did not start within 30 s: ${output}`))
    }, 30_000)
    let started = false
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = /listening on (http:\/\/\S+?)(,|\s|$)/.exec(output)
      if (match && !started) {
        started = true
        clearTimeout(timer)
        done({ url: match[1]!, child, output: () => output, stop })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (!started) fail(new Error(`gateway exited ${code}: ${output}`))
    })
  })
}

export async function startReplicas(n: number, config: string, env: Record<string, string>): Promise<GatewayProcess[]> {
  return Promise.all(Array.from({ length: n }, () => startGatewayProcess(config, env)))
}
