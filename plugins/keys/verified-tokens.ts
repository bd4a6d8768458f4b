/**
 * Tokens this process has already verified, so a key in use costs no SHA-256 per request: a bounded map from the
 * presented token to the key it resolved to. An entry counts only while that key is still current — a config key,
 * or the very object the key cache holds for its id (an update, a revocation, a rotation or the cache's TTL replaces
 * or drops that object, and the token is verified again). Refused tokens are never remembered, so refusals keep
 * costing the same whatever they present (see auth.ts).
 */
import type { CachedKey } from './key-cache.ts'

const MAX_TOKENS = 10_000

export class VerifiedTokens {
  readonly #tokens = new Map<string, CachedKey>()

  constructor(private readonly isCurrent: (key: CachedKey) => boolean) {}

  /** The key `token` resolved to, if it is still current. */
  get(token: string): CachedKey | undefined {
    const key = this.#tokens.get(token)
    if (!key) return undefined
    if (this.isCurrent(key)) return key
    this.#tokens.delete(token)
    return undefined
  }

  remember(token: string, key: CachedKey): void {
    if (this.#tokens.size >= MAX_TOKENS) this.#tokens.delete(this.#tokens.keys().next().value!)
    this.#tokens.set(token, key)
  }
}
