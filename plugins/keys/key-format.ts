/**
 * The virtual key format `sk-sluice-<id>-<secret>`: generation, parsing, hashing and constant-time checks.
 * The id (12 base62 chars, ~71 bits) is a public lookup handle; the secret (43 base62 chars, 256 bits) is only
 * ever stored as its SHA-256. A plain hash is enough for a uniformly random 256-bit secret: there is nothing to
 * brute-force that a slow KDF would protect.
 *
 * Randomness comes from `crypto.randomBytes`, not the injectable Clock: `Clock.random` is a test seam, not a
 * CSPRNG, and a key must never be predictable.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export const KEY_PREFIX = 'sk-sluice-'
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
export const ID_LENGTH = 12
export const SECRET_LENGTH = 43
/** Anything longer than this is not a key we issued or accept; refused before any hashing. */
export const MAX_TOKEN_LENGTH = 512

const ID_PATTERN = /^[0-9A-Za-z]{12}$/
const SECRET_PATTERN = /^[0-9A-Za-z]{43}$/

/** Uniform base62 string of `length` chars (rejection sampling: bytes >= 248 are skipped to avoid modulo bias). */
export function randomBase62(length: number): string {
  let out = ''
  while (out.length < length) {
    const bytes = randomBytes(length * 2)
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i]!
      if (b < 248) out += BASE62[b % 62]
    }
  }
  return out
}

export function newKeyId(): string {
  return randomBase62(ID_LENGTH)
}

export function newSecret(): string {
  return randomBase62(SECRET_LENGTH)
}

export function formatKey(id: string, secret: string): string {
  return `${KEY_PREFIX}${id}-${secret}`
}

export function isKeyId(value: string): boolean {
  return ID_PATTERN.test(value)
}

/** Splits a presented token into id and secret; undefined when it is not in our format. */
export function parseKey(token: string): { id: string; secret: string } | undefined {
  if (token.length !== KEY_PREFIX.length + ID_LENGTH + 1 + SECRET_LENGTH || !token.startsWith(KEY_PREFIX)) return undefined
  const id = token.slice(KEY_PREFIX.length, KEY_PREFIX.length + ID_LENGTH)
  if (token[KEY_PREFIX.length + ID_LENGTH] !== '-') return undefined
  const secret = token.slice(KEY_PREFIX.length + ID_LENGTH + 1)
  if (!ID_PATTERN.test(id) || !SECRET_PATTERN.test(secret)) return undefined
  return { id, secret }
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/** Constant-time equality of two 32-byte digests. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Stand-in digest compared against when a key id is unknown, so that path costs what a wrong secret costs. */
export const DUMMY_DIGEST: Buffer = randomBytes(32)
