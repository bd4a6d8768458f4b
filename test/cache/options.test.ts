/** cache() options are validated at load (one line naming the option) and shown without secrets. */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../core/index.ts'
import { cache } from '../../plugins/cache/index.ts'

const refusal = (input: unknown) => {
  try {
    cache(input as any)
  } catch (error) {
    if (ConfigError.is(error)) return error.message
    throw error
  }
  return undefined
}

describe('cache() options', () => {
  it('refuses an unknown option, a bad store and a bad TTL, naming them', () => {
    expect(refusal({ tll: 60 })).toBe('cache: unknown option "tll"')
    expect(refusal({ store: 'disk' })).toMatch(/^cache: option "store": expected "memory", \{ fs: "<dir>" \} or \{ redis: "redis:\/\/\.\.\." \}/)
    expect(refusal({ store: { redis: 'http://x' } })).toMatch(/^cache: option "store/)
    expect(refusal({ ttl: -1 })).toMatch(/^cache: option "ttl"/)
    expect(refusal({ routes: { smart: { ttl: 1.5 } } })).toMatch(/^cache: option "routes\.smart\.ttl"/)
    expect(refusal({ scope: 'team' })).toMatch(/^cache: option "scope"/)
    expect(refusal({})).toBeUndefined()
  })

  it('shows its options with a Redis password redacted', () => {
    const plugin = cache({ store: { redis: 'redis://:hunter2-secret@redis.internal:6379/0' } })
    expect(JSON.stringify(plugin.options)).not.toContain('hunter2-secret')
    expect((plugin.options as any).store.redis).toBe('redis://:redacted@redis.internal:6379/0')
    expect(cache().options).toMatchObject({ store: 'memory', ttl: 3600, scope: 'global', cacheNonDeterministic: false })
  })
})
