/**
 * The `auth` hook: finds the caller's key on the request's headers, checks it in constant time, and sets
 * `ctx.principal` (id, name, tags, limits, the model allow-list, budget) for later hooks.
 *
 * Unknown, revoked and expired keys get one message, and an unknown id does the same work as a wrong secret, so
 * neither the answer nor its timing tells which. Messages never contain the presented key.
 */
import { GatewayError, presentedKey } from '../../core/index.ts'
import type { Clock, Principal, RequestContext } from '../../core/index.ts'
import { DUMMY_DIGEST, MAX_TOKEN_LENGTH, digestsEqual, parseKey, sha256, sha256Hex } from './key-format.ts'
import type { CachedKey } from './key-cache.ts'
import type { KeyStore } from './key-store.ts'
import { keyStatus } from './schema.ts'
import { VerifiedTokens } from './verified-tokens.ts'

export const STATE_SLOT = 'keys'

const MISSING_KEY = 'Missing API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>".'
const INVALID_KEY = 'Invalid API key: it is unknown, revoked or expired.'

function invalidKey(): GatewayError {
  return new GatewayError(401, INVALID_KEY, { type: 'authentication_error', code: 'invalid_api_key' })
}

/** Resolves a presented token to an active key, or throws the one 401. */
export async function authenticate(store: KeyStore, token: string, now: number, verified?: VerifiedTokens): Promise<CachedKey> {
  if (token.length > MAX_TOKEN_LENGTH) throw invalidKey()
  const remembered = verified?.get(token)
  if (remembered) {
    if (keyStatus(remembered.record, now) !== 'active') throw invalidKey()
    return remembered
  }
  // Config keys are looked up by the digest of the whole token: a Map hit needs a SHA-256 preimage.
  let key = store.configKey(sha256Hex(token))
  if (!key) {
    const parsed = parseKey(token)
    if (!parsed) throw invalidKey()
    const secret = sha256(parsed.secret)
    const cached = store.cachedKey(parsed.id)
    const matchesCached = digestsEqual(secret, cached?.digest ?? DUMMY_DIGEST)
    if (cached && matchesCached) {
      key = cached
    } else {
      // Not cached, unknown, or a wrong secret: the same work each way, so the timing cannot tell an unknown id
      // from a wrong secret (a wrong secret used to be refused from memory, an unknown id only after a storage
      // read). The read also picks up a secret rotated by another process before the cache expires.
      const stored = await store.readKey(parsed.id)
      key = digestsEqual(secret, stored?.digest ?? DUMMY_DIGEST) ? stored : undefined
    }
  }
  if (!key || keyStatus(key.record, now) !== 'active') throw invalidKey()
  verified?.remember(token, key)
  return key
}

export function principalOf(key: CachedKey): Principal {
  const { record } = key
  return {
    id: record.id,
    name: record.name,
    ...(record.tags && { tags: record.tags }),
    keyId: record.id,
    allowsModel: key.allows,
    ...(record.limits && { limits: record.limits }),
    ...(record.models && { models: record.models }),
    ...(record.budget && { budget: record.budget }),
  }
}

export function createAuthHook(store: KeyStore, clock: Clock) {
  const verified = new VerifiedTokens((key) => store.isCurrent(key))
  return async function keysAuth(ctx: RequestContext): Promise<void> {
    const token = presentedKey(ctx.request)
    if (!token) throw new GatewayError(401, MISSING_KEY, { type: 'authentication_error', code: 'missing_api_key' })
    const key = await authenticate(store, token, clock.now(), verified)
    // The model allow-list is enforced by the core once the body is read (`principal.allowsModel`).
    ctx.principal = principalOf(key)
    ctx.state[STATE_SLOT] = { key }
  }
}
