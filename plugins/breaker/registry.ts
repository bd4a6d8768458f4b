/** The circuits of every target, created on first use, and the `breakers` service other plugins read. */
import type { Clock, Target } from '../../core/index.ts'
import { Circuit, type CircuitSettings, type CircuitState } from './circuit.ts'

export function targetKey(target: Target): string {
  return `${target.provider}/${target.model}`
}

/** A transition this replica made (not one it learnt from another replica). */
export type TransitionPublisher = (key: string, state: CircuitState, cooldownMs: number) => void

export class CircuitRegistry {
  readonly #circuits = new Map<string, Circuit>()
  publish?: TransitionPublisher

  constructor(readonly settings: CircuitSettings, readonly maxCircuits: number, readonly clock: () => Clock) {}

  get(key: string): Circuit {
    let circuit = this.#circuits.get(key)
    if (!circuit) {
      circuit = new Circuit(key, this.settings, (state, cooldownMs) => this.publish?.(key, state, cooldownMs))
      this.#evictIfFull()
      this.#circuits.set(key, circuit)
    }
    return circuit
  }

  /** Ms until `target` would admit an attempt; 0 when it would now. */
  blockedFor(target: Target): number {
    return this.#circuits.get(targetKey(target))?.blockedFor(this.clock().now()) ?? 0
  }

  states(): Array<{ target: string; state: CircuitState; failures: number; requests: number }> {
    const now = this.clock().now()
    return [...this.#circuits.values()].map((circuit) => ({ target: circuit.key, state: circuit.state(now), ...circuit.counts(now) }))
  }

  #evictIfFull(): void {
    if (this.#circuits.size < this.maxCircuits) return
    const now = this.clock().now()
    for (const [key, circuit] of this.#circuits) {
      if (circuit.state(now) === 'closed') {
        this.#circuits.delete(key)
        return
      }
    }
  }
}
