/**
 * Shares circuit transitions between replicas through Redis. Counts stay local (each replica judges from its
 * own traffic); when one replica opens or closes a circuit it publishes that on a channel, and stores an open
 * circuit as a key that expires with the cooldown, so a replica starting later learns what is open.
 * Remaining cooldowns travel as durations (Redis TTLs), not timestamps, so clock skew between hosts is harmless.
 * If Redis is unreachable the breaker simply works per replica.
 */
import { Redis } from 'ioredis'
import type { CircuitState } from './circuit.ts'
import type { CircuitRegistry } from './registry.ts'

interface TransitionMessage {
  origin: string
  key: string
  state: CircuitState
  cooldownMs: number
}

export interface RedisSync {
  /** Resolves once the subscription and the snapshot of open circuits are in place (or failed). */
  ready: Promise<void>
  close(): Promise<void>
}

export function startRedisSync(url: string, prefix: string, registry: CircuitRegistry, logger: { warn(message: string): void }): RedisSync {
  const origin = crypto.randomUUID()
  const channel = `${prefix}:transitions`
  const openKey = (key: string) => `${prefix}:open:${key}`
  const options = { maxRetriesPerRequest: 1, enableAutoPipelining: true, lazyConnect: false }
  const commands = new Redis(url, options)
  const subscriber = new Redis(url, options)
  const warn = (error: Error) => logger.warn(`breaker: redis unavailable, circuits are per replica for now (${error.message})`)
  commands.on('error', warn)
  subscriber.on('error', warn)

  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return
    let message: TransitionMessage
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (message.origin === origin || typeof message.key !== 'string') return
    const now = registry.clock().now()
    if (message.state === 'open' && Number.isFinite(message.cooldownMs) && message.cooldownMs > 0) registry.get(message.key).forceOpen(now, message.cooldownMs)
    else if (message.state === 'closed') registry.get(message.key).forceClose()
  })

  registry.publish = (key, state, cooldownMs) => {
    if (state === 'half-open') return
    const message: TransitionMessage = { origin, key, state, cooldownMs }
    const write = state === 'open'
      ? commands.set(openKey(key), origin, 'PX', Math.max(1, Math.round(cooldownMs)))
      : commands.del(openKey(key))
    Promise.all([write, commands.publish(channel, JSON.stringify(message))]).catch(warn)
  }

  const ready = (async () => {
    await subscriber.subscribe(channel)
    const now = registry.clock().now()
    let cursor = '0'
    do {
      const [nextCursor, keys] = await commands.scan(cursor, 'MATCH', `${openKey('')}*`, 'COUNT', 200)
      cursor = nextCursor
      for (const redisKey of keys) {
        const ttl = await commands.pttl(redisKey)
        if (ttl > 0) registry.get(redisKey.slice(openKey('').length)).forceOpen(now, ttl)
      }
    } while (cursor !== '0')
  })().catch(warn)

  return {
    ready,
    async close() {
      registry.publish = undefined
      await Promise.allSettled([subscriber.quit(), commands.quit()])
    },
  }
}
