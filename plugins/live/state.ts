/**
 * The snapshot in force on this replica and the sections that apply it. A snapshot is parsed by every section
 * before any applies, so a change either applies whole or not at all; a snapshot this replica cannot parse
 * (its config file differs) is refused with an error line and the previous one stays.
 */
import type { ConsolaInstance } from 'consola'
import type { PushHandlers } from './push.ts'
import type { SnapshotStore } from './store.ts'
import type { LiveConfig, LiveSection, Overlay, Snapshot } from './types.ts'

export class LiveState {
  readonly sections = new Map<string, LiveSection<any>>()
  current: Snapshot | undefined
  disabled = new Set<string>()
  #following: Promise<void> | undefined
  #again = false
  /** Whether the store has been read (onStart ran): `sluice check` without --connect never reads it. */
  started = false

  constructor(private readonly logger: ConsolaInstance) {}

  section<T>(name: string, handler: LiveSection<T>): void {
    if (this.sections.has(name)) throw new Error(`live: the section "${name}" is registered twice`)
    this.sections.set(name, handler)
  }

  service(): LiveConfig {
    return {
      section: (name, handler) => this.section(name, handler),
      current: () => this.current,
      providerDisabled: (name) => this.disabled.has(name),
      checkLines: () => this.checkLines(),
    }
  }

  /** For `sluice check`: the live overlay in force over the config file, shown as such. */
  checkLines(): string[] {
    if (!this.started) return ['live config: the overlay was not read (run `sluice check --connect` to see the changes in force over this file)']
    const current = this.current
    if (!current) return ['live config: version 0, no live changes: the config file alone is in force']
    return [
      `live config: version ${current.version} by ${current.actor} at ${current.createdAt}${current.note ? ` (${current.note})` : ''}, in force over this file:`,
      ...JSON.stringify(current.overlay, null, 2).split('\n').map((line) => `  ${line}`),
    ]
  }

  /** Every section of `overlay` parsed, or an Error naming the section and the reason. */
  parse(overlay: unknown): Map<string, unknown> {
    if (typeof overlay !== 'object' || overlay === null || Array.isArray(overlay)) throw new Error('the overlay must be an object of sections')
    for (const name of Object.keys(overlay)) {
      if (!this.sections.has(name)) throw new Error(`unknown section "${name}" (this gateway takes ${[...this.sections.keys()].map((n) => `"${n}"`).join(', ')})`)
    }
    const parsed = new Map<string, unknown>()
    for (const [name, section] of this.sections) {
      if (!(name in overlay)) continue
      try {
        parsed.set(name, section.parse((overlay as Overlay)[name]))
      } catch (error) {
        throw new Error(`${name}: ${(error as Error)?.message ?? error}`)
      }
    }
    return parsed
  }

  apply(snapshot: Snapshot | undefined, parsed: Map<string, unknown>): void {
    for (const [name, section] of this.sections) section.apply(parsed.get(name))
    this.current = snapshot
  }

  /** Reads the head of the store and applies it if it is newer than the one in force. One read at a time. */
  follow(store: SnapshotStore): Promise<void> {
    if (this.#following) {
      this.#again = true
      return this.#following
    }
    this.#following = (async () => {
      do {
        this.#again = false
        try {
          const head = await store.head()
          if (head && head.version > (this.current?.version ?? 0)) this.adopt(head)
        } catch (error) {
          this.logger.warn(`live: could not read the current config snapshot (${(error as Error)?.message ?? error}); keeping version ${this.current?.version ?? 0}`)
        }
      } while (this.#again)
    })().finally(() => { this.#following = undefined })
    return this.#following
  }

  adopt(snapshot: Snapshot): boolean {
    let parsed: Map<string, unknown>
    try {
      parsed = this.parse(snapshot.overlay)
    } catch (error) {
      this.logger.error(`live: config version ${snapshot.version} does not fit this gateway's config file (${(error as Error).message}); keeping version ${this.current?.version ?? 0}`)
      return false
    }
    this.apply(snapshot, parsed)
    this.logger.info(`live: config version ${snapshot.version} applied (by ${snapshot.actor})`)
    return true
  }

  handlers(refresh: () => Promise<void>): PushHandlers {
    return {
      onVersion: (version) => { if (version > (this.current?.version ?? 0)) void refresh() },
      onReset: () => void refresh(),
    }
  }
}
