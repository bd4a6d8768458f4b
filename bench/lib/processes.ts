/** Child processes for benchmarks: each server runs in its own process; we read its URL from its output. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
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

/** The open-file limit the bench asks for its children: 5,000 proxied streams hold ~10,000 sockets in one process. */
export const WANTED_FD_LIMIT = 65_536
/**
 * Every child starts through `sh`, which raises its open-file limit (to WANTED_FD_LIMIT, or else as far as the hard
 * limit allows) and then execs the command, so the child keeps the pid spawn returned.
 */
const RAISE_FD_LIMIT = `ulimit -n ${WANTED_FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`

/** The open-file limits a child of the bench gets: `soft` (what it may open) and `hard` (what it could be raised to). */
export function childFdLimit(): { soft: number; hard: number } {
  const out = execFileSync('/bin/sh', ['-c', RAISE_FD_LIMIT, 'sh', '/bin/sh', '-c', 'ulimit -n; ulimit -Hn']).toString().trim().split('\n')
  const read = (value: string | undefined) => (value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value))
  return { soft: read(out[0]), hard: read(out[1]) }
}

/** Spawns `command args` with the raised open-file limit. */
export function spawnRaised(command: string, args: string[], env: Record<string, string> = {}, cwd = root): ChildProcess {
  return spawn('/bin/sh', ['-c', RAISE_FD_LIMIT, 'sh', command, ...args], {
    cwd, env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export function startProcess(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  pattern = /listening on (http:\/\/[\d.:]+)/i,
  cwd = root,
): Promise<Started> {
  const child = spawnRaised(command, args, env, cwd)
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

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((done) => {
    child.once('exit', () => done())
    child.kill(signal)
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  })
}

export const node = process.execPath

export function startMock(): Promise<Started> {
  return startProcess(node, ['--import', 'jiti/register', 'bench/mock-upstream.ts', '0'])
}

/**
 * Starts `bin/sluice.mjs start` with a bench config; `nodeArgs` go before the script (e.g. --cpu-prof), `cliArgs`
 * after it (e.g. --workers 2).
 */
export function startSluice(config: string, env: Record<string, string>, nodeArgs: string[] = [], cliArgs: string[] = []): Promise<Started> {
  return startProcess(node, [...nodeArgs, 'bin/sluice.mjs', 'start', '--config', config, '--port', '0', ...cliArgs], env)
}
