/**
 * A bounded queue with a single batched writer in front of a store, and a spill file for when the store is down:
 * what `usage()` records go through, and any plugin that stores one row per request (`logs()`) can reuse.
 *
 * `add` never blocks and never fails: the item goes into a bounded in-memory queue. One writer loop takes
 * batches off the queue into the store, yielding to the event loop between batches. When the store fails, the
 * batch goes back to the head of the queue and the writer retries with backoff; once the queue reaches its
 * bound, the whole queue is appended to the spill file. After the store accepts a batch again, spill files are
 * replayed (the store must be idempotent on `item.id`, so a replay cut short can be repeated). Nothing is
 * dropped unless the spill file itself cannot be written; that is counted and logged as an error.
 */
import { randomUUID } from 'node:crypto'
import { stat } from 'node:fs/promises'
import type { ConsolaInstance } from 'consola'
import { counter, gauge } from './metrics.ts'
import type { Clock } from './types.ts'
import { Journal, appendSpill, appendSpillSync, readLines, removeFile, replayFiles, setAsideSpill, type SpillLine } from './spill.ts'

/** Where a `BatchWriter` writes. */
export interface BatchStore<T> {
  /** Connects and creates or migrates the schema. Safe to call again after a failure. */
  open(): Promise<void>
  /** Writes items in one transaction, skipping ids already stored (a replayed spill); returns rows inserted. */
  insert(items: T[]): Promise<number>
  close(): Promise<void>
}

export interface BatchWriterOptions<T> {
  store: BatchStore<T>
  spillFile: string
  /** Items held in memory before the queue spills to disk. */
  queueSize: number
  batchSize: number
  /** Longest an item waits in the queue before a (partial) batch is written. */
  flushIntervalMs: number
  /** Cap of the retry backoff while the store is down. */
  maxRetryMs?: number
  /** How long `close` waits for the store before spilling what is left. */
  closeTimeoutMs?: number
  clock: Clock
  logger: ConsolaInstance
  /** Items this process accepted, once they are in the store (written or replayed). */
  onStored?: (items: T[]) => void
  /**
   * Names the writer in metrics (`sluice_<name>_records_total`, `_failed_batches_total`, `_queue_depth`,
   * `_spill_pending`) and in log lines (`<name> store unavailable …`).
   */
  name: string
  /** Capitalised noun for metric help texts (`Usage` → "Usage records by what happened to them"). */
  label?: string
  /**
   * Append each item to a write-ahead journal beside the spill file as it is accepted (no fsync; the items of one
   * synchronous run in one write), so a process killed outright loses none: the next start replays what it had
   * not stored. Default false.
   */
  journal?: boolean
}

export type BatchWriterStats = {
  /** Items handed to the writer. */
  accepted: number
  /** Items in memory now (queue plus the batch being written). */
  queued: number
  written: number
  spilled: number
  replayed: number
  failedBatches: number
  /** Items lost because neither the store nor the spill file took them (logged as errors). */
  dropped: number
  /** Items this process spilled that are not replayed yet. */
  spillPending: number
  /** Unreadable spill lines skipped during replay (logged). */
  corrupt: number
  /** 1 while the last store operation succeeded. */
  storeUp: number
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

function instruments(name: string, label: string) {
  return {
    records: counter(`sluice_${name}_records_total`, `${label} records by what happened to them`, ['result']),
    failedBatches: counter(`sluice_${name}_failed_batches_total`, `${label} store batches that failed`),
    queueDepth: gauge(`sluice_${name}_queue_depth`, `${label} records waiting in memory for the store`),
    spillPending: gauge(`sluice_${name}_spill_pending`, `${label} records in the spill file waiting for replay`),
  }
}

export class BatchWriter<T extends { id: string }> {
  readonly boot = randomUUID()
  readonly #options: Required<Omit<BatchWriterOptions<T>, 'onStored' | 'journal'>> & Pick<BatchWriterOptions<T>, 'onStored'>
  readonly #journal: Journal | undefined
  #journalFailed = false
  readonly #metrics: ReturnType<typeof instruments>
  readonly #queue: T[] = []
  readonly #replayProgress = new Map<string, number>()
  readonly #stats = { accepted: 0, written: 0, spilled: 0, replayed: 0, failedBatches: 0, dropped: 0, spillPending: 0, corrupt: 0 }
  #inflight = 0
  #writing: Promise<void> | null = null
  #timer: AbortController | null = null
  #timerDue = 0
  #retryDelay = 0
  #storeUp = true
  #spillChain: Promise<void> = Promise.resolve()
  #spillSeq = 0
  #replayNeeded = false
  #stopping = false
  #closing: Promise<void> | null = null
  #closed = false

  constructor(options: BatchWriterOptions<T>) {
    this.#options = { maxRetryMs: 30_000, closeTimeoutMs: 10_000, label: options.name, ...options }
    this.#metrics = instruments(options.name, this.#options.label)
    this.#journal = options.journal ? new Journal(options.spillFile, this.boot, this.#journalWrote) : undefined
  }

  /** Opens the store (a failure is an outage, not a crash) and replays spill files a previous run left. */
  async start(): Promise<void> {
    if (this.#journal) {
      const suffix = `${String(this.#options.clock.now()).padStart(15, '0')}-${this.boot}-journal`
      await Journal.adoptLeftovers(this.#options.spillFile, this.boot, suffix)
    }
    this.#replayNeeded = (await replayFiles(this.#options.spillFile)).length > 0 || (await this.#hasLiveSpill())
    try {
      await this.#options.store.open()
    } catch (error) {
      this.#failed(error)
      return
    }
    if (this.#replayNeeded) this.#schedule(0)
  }

  /** Hands one finished record to the store queue and the live subscribers. Never throws, never blocks. */
  add(record: T): void {
    if (this.#closed) {
      this.#spillNow([record])
      return
    }
    this.#stats.accepted++
    this.#metrics.records.inc({ result: 'accepted' })
    if (this.#journal) this.#journalAppend(record)
    if (this.#queue.length >= this.#options.queueSize) this.#spill(this.#queue.splice(0))
    this.#queue.push(record)
    this.#metrics.queueDepth.set(this.#queue.length + this.#inflight)
    if (this.#retryDelay > 0) return // the retry timer is set
    this.#schedule(this.#queue.length >= this.#options.batchSize ? 0 : this.#options.flushIntervalMs)
  }

  stats(): BatchWriterStats {
    const queued = this.#queue.length + this.#inflight
    this.#metrics.queueDepth.set(queued)
    return { ...this.#stats, queued, storeUp: this.#storeUp ? 1 : 0 }
  }

  /** Writes what is queued now (and replays spills), ignoring any backoff. Resolves when done or failed. */
  async flush(): Promise<void> {
    if (this.#writing) await this.#writing
    if (this.#queue.length > 0 || this.#replayNeeded) await this.#run()
    await this.#spillChain
  }

  /** Writes everything still queued, or spills it when the store fails or is too slow; then closes the store. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#stopping = true
      this.#closing = this.#shutdown()
    }
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    this.#cancelTimer()
    const finished = this.#finalFlush()
    const timer = new AbortController()
    const timedOut = await Promise.race([
      finished.then(() => false),
      this.#options.clock.sleep(this.#options.closeTimeoutMs, timer.signal).then(() => true, () => false),
    ])
    timer.abort()
    if (timedOut) {
      this.#options.logger.warn(`${this.#options.name} store did not finish within ${this.#options.closeTimeoutMs}ms: spilling ${this.#queue.length} records`)
    }
    // Records may still arrive while the spill is written: loop until none is left, then close synchronously.
    for (;;) {
      if (this.#queue.length > 0) this.#spill(this.#queue.splice(0))
      await this.#spillChain
      if (this.#queue.length === 0) break
    }
    this.#closed = true
    this.#journal?.seal()
    if (this.#inflight === 0) this.#journal?.dropSealed() // a batch still being written keeps its journal lines
    this.#metrics.queueDepth.set(this.#inflight)
    await this.#options.store.close().catch((error) => this.#options.logger.warn(`closing the ${this.#options.name} store failed:`, error?.message))
  }

  async #finalFlush(): Promise<void> {
    if (this.#writing) await this.#writing
    while (this.#queue.length > 0) {
      if (!(await this.#writeBatch())) break
    }
  }

  // ——— the writer ———

  /**
   * One writer at a time. `everything`: write all that is queued (a flush, or the flush interval passed); else
   * (a batch filled up) only full batches, so that a steady load is written in full batches — a transaction of
   * 15 rows cost SQLite 24–28 µs per row in the bench gateway under load, one of 100 10–12 — and the rest waits for
   * the flush interval, as long as any record may.
   */
  #run(everything = true): Promise<void> {
    if (this.#stopping) return Promise.resolve() // shutdown writes the rest itself: still one writer
    this.#writing ??= this.#drain(everything).finally(() => {
      this.#writing = null
      if (!this.#stopping && this.#retryDelay === 0 && (this.#queue.length > 0 || this.#replayNeeded)) {
        this.#schedule(this.#queue.length >= this.#options.batchSize ? 0 : this.#options.flushIntervalMs)
      }
    })
    return this.#writing
  }

  async #drain(everything: boolean): Promise<void> {
    if (!(await this.#drainLive(everything))) return
    if (this.#replayNeeded && !this.#stopping) await this.#replay()
  }

  /** Writes queued batches (all of them, or while they are full); false when the store failed. */
  async #drainLive(everything = true): Promise<boolean> {
    const { batchSize } = this.#options
    while (this.#queue.length >= (everything ? 1 : batchSize)) {
      if (!(await this.#writeBatch())) return false
      await tick()
    }
    await this.#journalCleanPoint()
    return true
  }

  #journalAppend(record: T) {
    this.#journal!.append(record)
  }

  /** A journal write failed (said once until one succeeds again) or succeeded. */
  #journalWrote = (error?: unknown) => {
    if (error === undefined) {
      this.#journalFailed = false
      return
    }
    if (!this.#journalFailed) this.#options.logger.warn(`${this.#options.name} journal not writable (${(error as Error)?.message}): records are still queued, but a killed process would lose its unwritten ones`)
    this.#journalFailed = true
  }

  /** Everything accepted so far is stored or on its way to the spill file: the journal's segments can go. */
  async #journalCleanPoint() {
    if (!this.#journal?.open || this.#queue.length > 0 || this.#inflight > 0) return
    this.#journal.seal()
    await this.#spillChain
    this.#journal.dropSealed()
  }

  async #writeBatch(): Promise<boolean> {
    const batch = this.#queue.splice(0, this.#options.batchSize)
    this.#inflight = batch.length
    try {
      await this.#options.store.insert(batch)
    } catch (error) {
      this.#inflight = 0
      this.#requeue(batch)
      this.#failed(error)
      return false
    }
    this.#inflight = 0
    this.#stats.written += batch.length
    this.#metrics.records.inc({ result: 'written' }, batch.length)
    this.#metrics.queueDepth.set(this.#queue.length)
    this.#recovered()
    this.#stored(batch)
    return true
  }

  /** A failed batch goes back to the head of the queue (or to disk once shut down). */
  #requeue(batch: T[]) {
    if (this.#closed) return this.#spillNow(batch)
    this.#queue.unshift(...batch)
    if (this.#queue.length >= this.#options.queueSize) this.#spill(this.#queue.splice(0))
  }

  #failed(error: unknown) {
    this.#stats.failedBatches++
    this.#metrics.failedBatches.inc()
    if (this.#storeUp) {
      this.#options.logger.warn(`${this.#options.name} store unavailable (${(error as Error)?.message ?? error}): records wait in memory, then spill to ${this.#options.spillFile}`)
    }
    this.#storeUp = false
    const { flushIntervalMs, maxRetryMs } = this.#options
    this.#retryDelay = Math.min(this.#retryDelay ? this.#retryDelay * 2 : Math.max(flushIntervalMs, 100), maxRetryMs)
    this.#schedule(this.#retryDelay, true)
  }

  #recovered() {
    if (!this.#storeUp) this.#options.logger.info(`${this.#options.name} store is back: writing queued and spilled records`)
    this.#storeUp = true
    this.#retryDelay = 0
  }

  #stored(batch: T[]) {
    if (batch.length === 0 || !this.#options.onStored) return
    try {
      this.#options.onStored(batch)
    } catch (error) {
      this.#options.logger.warn(`${this.#options.name} onStored failed:`, (error as Error)?.message)
    }
  }

  #schedule(ms: number, replace = false) {
    if (this.#stopping) return
    const due = this.#options.clock.now() + ms
    if (this.#timer && !replace && this.#timerDue <= due) return
    this.#timer?.abort()
    const controller = new AbortController()
    this.#timer = controller
    this.#timerDue = due
    this.#options.clock.sleep(ms, controller.signal).then(() => {
      if (this.#timer === controller) this.#timer = null
      void this.#run(ms > 0)
    }, () => {})
  }

  #cancelTimer() {
    this.#timer?.abort()
    this.#timer = null
  }

  // ——— spill and replay ———

  #spill(batch: T[]) {
    if (batch.length === 0) return
    const { spillFile, logger } = this.#options
    const boot = this.boot
    this.#replayNeeded = true
    this.#spillChain = this.#spillChain
      .then(() => appendSpill(spillFile, batch, boot))
      .then(() => {
        this.#stats.spilled += batch.length
        this.#stats.spillPending += batch.length
        this.#metrics.records.inc({ result: 'spilled' }, batch.length)
        this.#metrics.spillPending.set(this.#stats.spillPending)
      }, (error) => this.#dropped(batch.length, error))
    this.#metrics.queueDepth.set(this.#queue.length + this.#inflight)
    logger.warn(`${this.#options.name} queue full or closing: spilled ${batch.length} records to ${spillFile}`)
  }

  /** After shutdown nothing awaits any more: append synchronously. */
  #spillNow(batch: T[]) {
    try {
      appendSpillSync(this.#options.spillFile, batch, this.boot)
      this.#stats.spilled += batch.length
      this.#stats.spillPending += batch.length
      this.#metrics.records.inc({ result: 'spilled' }, batch.length)
    } catch (error) {
      this.#dropped(batch.length, error)
    }
  }

  #dropped(count: number, error: unknown) {
    this.#stats.dropped += count
    this.#metrics.records.inc({ result: 'dropped' }, count)
    this.#options.logger.error(`could not write ${count} ${this.#options.name} records to the store nor the spill file ${this.#options.spillFile} (${(error as Error)?.message ?? error}): they are lost`)
  }

  async #hasLiveSpill(): Promise<boolean> {
    try {
      return (await stat(this.#options.spillFile)).size > 0
    } catch {
      return false
    }
  }

  async #replay(): Promise<void> {
    const { spillFile, clock, logger } = this.#options
    const suffix = `${String(clock.now()).padStart(15, '0')}-${this.boot}-${++this.#spillSeq}`
    // Set the live file aside inside the append chain, so no append lands in it while it is renamed.
    this.#spillChain = this.#spillChain.then(() => setAsideSpill(spillFile, suffix).then(() => {}))
      .catch((error) => logger.warn(`could not set the spill file aside for replay: ${error?.message}`))
    await this.#spillChain
    this.#replayNeeded = false
    for (const file of await replayFiles(spillFile)) {
      if (!(await this.#replayFile(file))) {
        this.#replayNeeded = true
        return
      }
      await removeFile(file)
      this.#replayProgress.delete(file)
    }
  }

  /** Replays one set-aside file from where an earlier attempt stopped; false when the store failed or we are closing. */
  async #replayFile(file: string): Promise<boolean> {
    const done = this.#replayProgress.get(file) ?? 0
    let line = 0
    let batch: SpillLine<T>[] = []
    for await (const text of readLines(file)) {
      line++
      if (line <= done) continue
      let parsed: SpillLine<T> | undefined
      try {
        parsed = JSON.parse(text)
      } catch {}
      if (!parsed?.r || typeof parsed.r.id !== 'string') {
        this.#stats.corrupt++
        this.#options.logger.warn(`skipping unreadable line ${line} of ${file}`)
        continue
      }
      batch.push(parsed)
      if (batch.length >= this.#options.batchSize) {
        if (!(await this.#replayBatch(file, batch, line))) return false
        batch = []
        // Live records keep flowing while a long spill is replayed.
        if (!(await this.#drainLive()) || this.#stopping) return false
      }
    }
    return batch.length === 0 || this.#replayBatch(file, batch, line)
  }

  async #replayBatch(file: string, batch: SpillLine<T>[], line: number): Promise<boolean> {
    let inserted: number
    try {
      inserted = await this.#options.store.insert(batch.map((entry) => entry.r))
    } catch (error) {
      this.#failed(error)
      return false
    }
    this.#replayProgress.set(file, line)
    this.#stats.replayed += inserted
    this.#metrics.records.inc({ result: 'replayed' }, inserted)
    const own = batch.filter((entry) => entry.b === this.boot).map((entry) => entry.r)
    this.#stats.spillPending = Math.max(0, this.#stats.spillPending - own.length)
    this.#metrics.spillPending.set(this.#stats.spillPending)
    this.#recovered()
    this.#stored(own)
    await tick()
    return true
  }
}
