/**
 * One circuit (one target): closed → open when the failure ratio over the rolling window crosses the threshold
 * (with a minimum number of requests), open → half-open once the cooldown has passed, half-open admits a few
 * probes: a probe's success closes the circuit, its failure opens it again.
 *
 * Every admitted attempt holds a permit stamped with the circuit's generation (bumped on each transition),
 * so a result that arrives after the state moved on is ignored instead of corrupting the new state.
 */
import { RollingWindow } from './window.ts'

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitSettings {
  failureRatio: number
  minRequests: number
  windowMs: number
  buckets: number
  cooldownMs: number
  /** Cap on a cooldown lengthened by the upstream's retry-after. */
  maxCooldownMs: number
  halfOpenProbes: number
}

export interface Permit {
  probe: boolean
  generation: number
}

export interface Refusal {
  retryAfterMs: number
}

/** What a caller waits before retrying a circuit whose probes are all busy. */
export const BUSY_PROBE_RETRY_MS = 1_000

export type TransitionListener = (state: CircuitState, cooldownMs: number) => void

export class Circuit {
  #state: CircuitState = 'closed'
  #generation = 0
  #openUntil = 0
  #probes = 0
  readonly #window: RollingWindow

  constructor(readonly key: string, readonly settings: CircuitSettings, private readonly onTransition?: TransitionListener) {
    this.#window = new RollingWindow(settings.windowMs, settings.buckets)
  }

  /** The state as of `now` (an open circuit whose cooldown has passed reads as half-open). */
  state(now: number): CircuitState {
    return this.#state === 'open' && now >= this.#openUntil ? 'half-open' : this.#state
  }

  counts(now: number) {
    return this.#window.totals(now)
  }

  /** Ms until an attempt would be admitted; 0 when one would be now. Takes nothing. */
  blockedFor(now: number): number {
    switch (this.state(now)) {
      case 'closed': return 0
      case 'open': return this.#openUntil - now
      case 'half-open': return this.#state === 'open' || this.#probes < this.settings.halfOpenProbes ? 0 : BUSY_PROBE_RETRY_MS
    }
  }

  acquire(now: number): Permit | Refusal {
    if (this.#state === 'open') {
      if (now < this.#openUntil) return { retryAfterMs: this.#openUntil - now }
      this.#enter('half-open')
    }
    if (this.#state === 'closed') return { probe: false, generation: this.#generation }
    if (this.#probes >= this.settings.halfOpenProbes) return { retryAfterMs: BUSY_PROBE_RETRY_MS }
    this.#probes++
    return { probe: true, generation: this.#generation }
  }

  success(permit: Permit, now: number): void {
    if (permit.generation !== this.#generation) return
    if (permit.probe) {
      this.#close()
      this.onTransition?.('closed', 0)
    } else {
      this.#window.add(now, false)
    }
  }

  failure(permit: Permit, now: number, retryAfterMs?: number): void {
    if (permit.generation !== this.#generation) return
    if (permit.probe) {
      this.#probes--
      this.#tripOpen(now, retryAfterMs)
      return
    }
    this.#window.add(now, true)
    const { requests, failures } = this.#window.totals(now)
    if (requests >= this.settings.minRequests && failures / requests >= this.settings.failureRatio) this.#tripOpen(now, retryAfterMs)
  }

  /** The attempt ended without telling anything about the upstream (client abort, a bug): frees its probe slot. */
  release(permit: Permit): void {
    if (permit.probe && permit.generation === this.#generation) this.#probes--
  }

  /** Another replica opened this circuit. */
  forceOpen(now: number, cooldownMs: number): void {
    const until = now + cooldownMs
    if (this.#state === 'open' && this.#openUntil >= until) return
    this.#enter('open')
    this.#openUntil = until
  }

  /** Another replica's probe succeeded. */
  forceClose(): void {
    if (this.#state !== 'closed') this.#close()
  }

  #tripOpen(now: number, retryAfterMs: number | undefined): void {
    const cooldownMs = Math.max(this.settings.cooldownMs, Math.min(retryAfterMs ?? 0, this.settings.maxCooldownMs))
    this.#enter('open')
    this.#openUntil = now + cooldownMs
    this.onTransition?.('open', cooldownMs)
  }

  #close(): void {
    this.#enter('closed')
    this.#window.reset()
  }

  #enter(state: CircuitState): void {
    this.#state = state
    this.#generation++
    this.#probes = 0
  }
}
