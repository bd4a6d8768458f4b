/**
 * Which worker process this is when `sluice start --workers N` runs several on one port (node:cluster), and the
 * one thing workers ask their primary for: the metrics of all of them, aggregated.
 */
import cluster from 'node:cluster'
import { randomUUID } from 'node:crypto'
import client from 'prom-client'

export interface WorkerIdentity {
  /** This worker's slot, 0 … count-1 (a restarted worker takes its predecessor's slot). */
  index: number
  /** How many processes serve this config; 1 without `--workers`. */
  count: number
}

export const WORKER_INDEX_ENV = 'SLUICE_WORKER_INDEX'
export const WORKER_COUNT_ENV = 'SLUICE_WORKERS'

export function currentWorker(): WorkerIdentity {
  const count = Number(process.env[WORKER_COUNT_ENV] ?? 1)
  const index = Number(process.env[WORKER_INDEX_ENV] ?? 0)
  return cluster.isWorker && count > 1 ? { index, count } : { index: 0, count: 1 }
}

const METRICS_REQUEST = 'sluice:metrics'
const METRICS_ANSWER = 'sluice:metrics-answer'

/** In a worker, at start: answer the primary's requests for this worker's metrics (prom-client's protocol). */
export function answerMetricsRequests(): void {
  new client.AggregatorRegistry() // its constructor registers the answer (once per process)
}

/** In a worker: the Prometheus text of every worker, aggregated by the primary; undefined outside a cluster. */
export function clusterMetrics(): Promise<string> | undefined {
  if (!cluster.isWorker || currentWorker().count === 1 || !process.send) return undefined
  const id = randomUUID()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { process.off('message', onMessage); reject(new Error('the primary did not answer with the metrics')) }, 5000)
    function onMessage(message: any) {
      if (message?.type !== METRICS_ANSWER || message.id !== id) return
      clearTimeout(timer)
      process.off('message', onMessage)
      if (typeof message.text === 'string') resolve(message.text)
      else reject(new Error(message.error ?? 'no metrics'))
    }
    process.on('message', onMessage)
    process.send!({ type: METRICS_REQUEST, id })
  })
}

/** In the primary: answers workers' metrics requests with every worker's metrics, aggregated. */
export function serveClusterMetrics(): void {
  const aggregator = new client.AggregatorRegistry()
  cluster.on('message', (worker, message: any) => {
    if (message?.type !== METRICS_REQUEST) return
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_ANSWER, id: message.id, text }),
      (error: Error) => worker.send({ type: METRICS_ANSWER, id: message.id, error: error.message }),
    )
  })
}
