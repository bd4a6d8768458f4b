/** Retention in the background: on an unref'd timer (never keeps the process alive), oldest entries first. */
import type { ConsolaInstance } from 'consola'
import type { RetentionPolicy } from './options.ts'
import type { LogStore, PruneResult } from './store.ts'

export class Retention {
  #timer: ReturnType<typeof setInterval> | undefined
  #running: Promise<PruneResult | undefined> | undefined
  #failing = false

  constructor(
    private readonly store: LogStore,
    private readonly policy: RetentionPolicy,
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly logger: ConsolaInstance,
  ) {}

  get active(): boolean {
    return this.policy.maxAgeDays !== undefined || this.policy.maxRows !== undefined || this.policy.maxBytes !== undefined
  }

  start(): void {
    if (!this.active || this.#timer) return
    this.#timer = setInterval(() => void this.run(), this.intervalMs)
    this.#timer.unref()
    void this.run()
  }

  /** One pass now (a pass already running is joined, not doubled). */
  run(): Promise<PruneResult | undefined> {
    this.#running ??= this.store.prune(this.policy, this.now()).then((result) => {
      if (this.#failing) this.logger.info('request log retention works again')
      this.#failing = false
      if (result.byAge + result.bySize > 0) this.logger.debug(`request log retention deleted ${result.byAge} entries by age, ${result.bySize} by size`)
      return result
    }, (error) => {
      if (!this.#failing) this.logger.warn('request log retention failed (retrying on the next pass):', error?.message ?? error)
      this.#failing = true
      return undefined
    }).finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }
}
