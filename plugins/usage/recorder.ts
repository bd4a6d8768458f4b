/**
 * The usage records' queue and writer: the shared `BatchWriter` (bounded queue, batched writes, spill file and
 * replay when the store is down; see core/batch-writer.ts) plus the live subscribers of the event feed.
 *
 * `add` never blocks and never fails: subscribers see the record at once, the writer stores it in a batch.
 */
import { BatchWriter } from '../../core/index.ts'
import type { BatchWriterStats, Clock, RequestRecord } from '../../core/index.ts'
import type { ConsolaInstance } from 'consola'
import type { UsageStore } from './store.ts'

export interface RecorderOptions {
  store: UsageStore
  spillFile: string
  /** Records held in memory before the queue spills to disk. */
  queueSize: number
  batchSize: number
  /** Longest a record waits in the queue before a (partial) batch is written. */
  flushIntervalMs: number
  /** Cap of the retry backoff while the store is down. */
  maxRetryMs?: number
  /** How long `close` waits for the store before spilling what is left. */
  closeTimeoutMs?: number
  clock: Clock
  logger: ConsolaInstance
  /** Records this process accepted, once they are in the store (written or replayed). */
  onStored?: (records: RequestRecord[]) => void
  /** Write-ahead journal of accepted records (see BatchWriterOptions.journal). */
  journal?: boolean
}

export type RecorderStats = BatchWriterStats & { subscribers: number }

export type RecordListener = (record: RequestRecord) => void

export class Recorder {
  readonly #writer: BatchWriter<RequestRecord>
  readonly #listeners = new Set<RecordListener>()
  readonly #logger: ConsolaInstance

  constructor(options: RecorderOptions) {
    this.#writer = new BatchWriter<RequestRecord>({ ...options, name: 'usage', label: 'Usage' })
    this.#logger = options.logger
  }

  /** Opens the store (a failure is an outage, not a crash) and replays spill files a previous run left. */
  start(): Promise<void> {
    return this.#writer.start()
  }

  /** Hands one finished record to the store queue and the live subscribers. Never throws, never blocks. */
  add(record: RequestRecord): void {
    for (const listener of this.#listeners) {
      try {
        listener(record)
      } catch (error) {
        this.#logger.warn('usage subscriber failed:', (error as Error)?.message ?? error)
      }
    }
    this.#writer.add(record)
  }

  subscribe(listener: RecordListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  stats(): RecorderStats {
    return { ...this.#writer.stats(), subscribers: this.#listeners.size }
  }

  /** Writes what is queued now (and replays spills), ignoring any backoff. Resolves when done or failed. */
  flush(): Promise<void> {
    return this.#writer.flush()
  }

  /** Writes everything still queued, or spills it when the store fails or is too slow; then closes the store. */
  async close(): Promise<void> {
    await this.#writer.close()
    this.#listeners.clear()
  }
}
