/** Child processes for benchmarks: each server runs in its own process; we read its URL from its output. */
import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'

export const root = resolve(import.meta.dirname, '../..')

export interface Started {
  url: string
  pid: number
  child: ChildProcess
  /** Everything the process printed before it was ready. */
  output: string
  stop(): Promise<void>
}

export function startProcess(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  pattern = /listening on (http:\/\/[\d.:]+)/i,
  cwd = root,
): Promise<Started> {
  const child = spawn(command, args, { cwd, env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`${args.join(' ')} did not start: ${output}`))
    }, 30_000)
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = pattern.exec(output)
      if (match) {
        clearTimeout(timer)
        child.stdout!.removeAllListeners('data')
        child.stderr!.removeAllListeners('data')
        child.stdout!.resume()
        child.stderr!.resume()
        done({ url: match[1]!, pid: child.pid!, child, output, stop: () => stopChild(child) })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('error', (error) => fail(error))
    child.on('exit', (code) => {
      clearTimeout(timer)
      fail(new Error(`${args.join(' ')} exited ${code}: ${output}`))
    })
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((done) => {
    child.once('exit', () => done())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  })
}

export const node = process.execPath

export function startMock(): Promise<Started> {
  return startProcess(node, ['--import', 'jiti/register', 'bench/mock-upstream.ts', '0'])
}

/** Starts `bin/sluice.mjs start` with a bench config; `nodeArgs` go before the script (e.g. --cpu-prof). */
export function startSluice(config: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Started> {
  return startProcess(node, [...nodeArgs, 'bin/sluice.mjs', 'start', '--config', config, '--port', '0'], env)
}
