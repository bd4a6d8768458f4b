/**
 * `sluice start --workers N`: N worker processes serving one port (node:cluster shares the listening socket), with
 * the primary supervising them — a worker that dies is replaced (after a short, growing pause, so a worker that
 * crashes at start does not spin), SIGTERM/SIGINT drain every worker (each finishes its requests, as one process
 * does), a second signal stops them at once — and aggregating their metrics for `/metrics`.
 *
 * Each worker runs the same config; plugins whose state lives in one process refuse to start with more than one
 * worker, naming the fix (see `gw.workers`).
 */
import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import type { ConsolaInstance } from 'consola'
import { WORKER_COUNT_ENV, WORKER_INDEX_ENV, serveClusterMetrics } from './workers.ts'

const RESTART_PAUSE_MS = [100, 500, 2_000, 5_000]

/** `auto` → the machine's cores; a number as given. */
export function workerCount(value: string): number {
  const count = value === 'auto' ? availableParallelism() : Number(value)
  if (!Number.isInteger(count) || count < 1 || count > 256) throw new Error(`--workers: "${value}" is not a number of workers (or auto)`)
  return count
}

/** Runs in the primary: forks `count` workers and supervises them until a signal (or `stop`) ends them all. */
export function superviseWorkers(count: number, logger: ConsolaInstance): { stop(code: number): void } {
  serveClusterMetrics()
  const slots = new Map<Worker, number>()
  const crashes = new Array<number>(count).fill(0)
  let stopping = false

  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index), [WORKER_COUNT_ENV]: String(count) })
    slots.set(worker, index)
    worker.once('listening', () => {
      if (crashes[index]) logger.info(`worker ${index} is serving again`)
      crashes[index] = 0
    })
  }

  let exitCode = 0
  cluster.on('exit', (worker, code, signal) => {
    const index = slots.get(worker)
    slots.delete(worker)
    if (stopping) {
      if (slots.size === 0) process.exit(exitCode)
      return
    }
    if (index === undefined) return
    const pause = RESTART_PAUSE_MS[Math.min(crashes[index]!++, RESTART_PAUSE_MS.length - 1)]!
    logger.warn(`worker ${index} exited (${signal ?? `code ${code}`}); starting another in ${pause} ms`)
    setTimeout(() => { if (!stopping) fork(index) }, pause).unref()
  })

  const stop = (code: number, why?: NodeJS.Signals) => {
    if (stopping) {
      for (const worker of slots.keys()) worker.process.kill('SIGKILL') // a second signal: now
      process.exit(1)
    }
    stopping = true
    exitCode = code
    if (why) logger.info(`${why}: draining ${slots.size} workers…`)
    for (const worker of slots.keys()) worker.process.kill('SIGTERM')
    if (slots.size === 0) process.exit(code)
  }
  process.on('SIGTERM', () => stop(0, 'SIGTERM'))
  process.on('SIGINT', () => stop(0, 'SIGINT'))

  for (let index = 0; index < count; index++) fork(index)
  return { stop: (code) => { if (!stopping) stop(code) } }
}
