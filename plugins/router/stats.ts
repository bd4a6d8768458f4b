/** Live numbers per target (`provider/model`) that the least-inflight and latency strategies order by. */
export class TargetStats {
  readonly #inflight = new Map<string, number>()
  readonly #latency = new Map<string, number>()

  constructor(private readonly alpha: number) {}

  inflight(key: string): number {
    return this.#inflight.get(key) ?? 0
  }

  /** Moving average of latency (time to first chunk for streams), or undefined before the first success. */
  latency(key: string): number | undefined {
    return this.#latency.get(key)
  }

  started(key: string): void {
    this.#inflight.set(key, this.inflight(key) + 1)
  }

  ended(key: string): void {
    const left = this.inflight(key) - 1
    if (left > 0) this.#inflight.set(key, left)
    else this.#inflight.delete(key)
  }

  observeLatency(key: string, ms: number): void {
    const previous = this.#latency.get(key)
    this.#latency.set(key, previous === undefined ? ms : previous + this.alpha * (ms - previous))
  }
}
