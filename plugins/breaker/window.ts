/** Request and failure counts over a rolling time window, kept in a ring of fixed-width buckets. */
export class RollingWindow {
  readonly #bucketMs: number
  readonly #epochs: Float64Array
  readonly #requests: Uint32Array
  readonly #failures: Uint32Array

  constructor(windowMs: number, buckets: number) {
    this.#bucketMs = Math.max(1, windowMs / buckets)
    this.#epochs = new Float64Array(buckets).fill(-Infinity)
    this.#requests = new Uint32Array(buckets)
    this.#failures = new Uint32Array(buckets)
  }

  add(now: number, failed: boolean): void {
    const epoch = Math.floor(now / this.#bucketMs)
    const i = epoch % this.#epochs.length
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch
      this.#requests[i] = 0
      this.#failures[i] = 0
    }
    this.#requests[i]!++
    if (failed) this.#failures[i]!++
  }

  totals(now: number): { requests: number; failures: number } {
    const current = Math.floor(now / this.#bucketMs)
    const oldest = current - this.#epochs.length + 1
    let requests = 0
    let failures = 0
    for (let i = 0; i < this.#epochs.length; i++) {
      const epoch = this.#epochs[i]!
      if (epoch >= oldest && epoch <= current) {
        requests += this.#requests[i]!
        failures += this.#failures[i]!
      }
    }
    return { requests, failures }
  }

  reset(): void {
    this.#epochs.fill(-Infinity)
  }
}
