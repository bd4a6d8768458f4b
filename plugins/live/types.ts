/** The shapes of live config: an overlay on the config file, kept as numbered, immutable snapshots. */

/** One section per plugin that takes live changes (`router`, `providers`, ...), each that plugin's own shape. */
export type Overlay = Record<string, unknown>

export interface Snapshot {
  /** 1, 2, 3, ... in the order they were made; version 0 is the config file alone. */
  version: number
  overlay: Overlay
  /** Who made it: the `x-sluice-actor` header of the admin call (the admin key is shared), else `admin`. */
  actor: string
  note?: string
  /** ISO time. */
  createdAt: string
  /** Set when this snapshot restores an earlier one. */
  restores?: number
}

/**
 * What a plugin registers to take live changes to its section of the overlay. `parse` checks a whole section
 * and throws with the reason (nothing is applied unless every section parses); `apply` swaps it in, or puts
 * the config file's value back when given undefined. Requests already routed keep what they were given.
 */
export interface LiveSection<T = unknown> {
  parse(value: unknown): T
  apply(parsed: T | undefined): void
  /** The config file's value, shown beside the overlay. */
  base?(): unknown
}

export interface LiveConfig {
  section<T>(name: string, handler: LiveSection<T>): void
  /** The snapshot in force (undefined: the config file alone). */
  current(): Snapshot | undefined
  /** Whether a provider was switched off live. */
  providerDisabled(name: string): boolean
  /** What `sluice check` prints about the overlay. */
  checkLines(): string[]
}
