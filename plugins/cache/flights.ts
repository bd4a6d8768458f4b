/**
 * Single flight: identical requests in flight at once reach the upstream once. The first (the leader) calls it;
 * the others wait for how the leader's call ended:
 *   - `answer`: the whole answer (a streamed leader's once its stream is complete) — each follower is served it;
 *   - `error`: the leader's call failed — followers get the same error, as they would have;
 *   - `pass`: the answer cannot be shared (too large, incomplete) — followers call the upstream themselves;
 *   - `retry`: the leader's client went away — one of the followers leads a new call.
 * A flight stays registered until its answer is stored, so a request arriving meanwhile joins it rather than
 * missing the store. One process only: replicas sharing Redis share entries, not flights.
 */
import type { ResponseView, Target } from '../../core/index.ts'

export interface SharedAnswer {
  output: ResponseView
  target: Target
  storedAt: number
}

export type FlightOutcome =
  | { kind: 'answer'; answer: SharedAnswer }
  | { kind: 'error'; error: unknown }
  | { kind: 'pass' }
  | { kind: 'retry' }

export interface Flight {
  readonly done: Promise<FlightOutcome>
  /** Ends the flight (once; later calls do nothing) and unregisters it. */
  end(outcome: FlightOutcome): void
}

export class Flights {
  readonly #flights = new Map<string, Flight>()

  get size(): number {
    return this.#flights.size
  }

  get(key: string): Flight | undefined {
    return this.#flights.get(key)
  }

  /** Registers a new flight for `key` (the caller leads it). */
  start(key: string): Flight {
    let resolve!: (outcome: FlightOutcome) => void
    const done = new Promise<FlightOutcome>((r) => { resolve = r })
    let ended = false
    const flight: Flight = {
      done,
      end: (outcome) => {
        if (ended) return
        ended = true
        if (this.#flights.get(key) === flight) this.#flights.delete(key)
        resolve(outcome)
      },
    }
    this.#flights.set(key, flight)
    return flight
  }
}

/** Waits for a flight, or rejects as soon as this request's own client goes away. */
export function waitFor(flight: Flight, signal: AbortSignal): Promise<FlightOutcome> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    flight.done.then((outcome) => {
      signal.removeEventListener('abort', onAbort)
      resolve(outcome)
    })
  })
}
