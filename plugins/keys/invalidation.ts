/**
 * Cross-replica cache invalidation over Redis pub/sub. unstorage's `watch()` does not see other processes'
 * writes on Redis, so every write to a key publishes its id, and every replica drops that id from its cache.
 * The subscriber needs a dedicated connection (a subscribed ioredis client can run no other command).
 * A lost message is covered by the cache TTL; after a reconnect the whole cache is dropped, since messages
 * sent while disconnected are gone.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { ConsolaInstance } from 'consola'

export interface Invalidator {
  publish(keyId: string): Promise<void>
  close(): Promise<void>
}

export interface InvalidationHandlers {
  /** One key changed on another process. */
  onKey(keyId: string): void
  /** Messages may have been missed: forget everything. */
  onReset(): void
}

export const noInvalidation: Invalidator = { publish: async () => {}, close: async () => {} }

const SUBSCRIBE_WAIT_MS = 2000
const connectionOptions = { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false } as const

/** Publisher only (the CLI: it changes keys but serves no requests). */
export function createPublisher(url: string, channel: string, logger: ConsolaInstance, origin = randomUUID()): Invalidator {
  const pub = new Redis(url, connectionOptions)
  pub.on('error', (error: Error) => logger.warn(`keys: redis publisher: ${error.message}`))
  return {
    async publish(keyId) {
      try {
        await pub.publish(channel, JSON.stringify({ id: keyId, origin }))
      } catch (error) {
        // The change already took effect locally; other replicas converge within the cache TTL.
        logger.warn(`keys: could not publish an invalidation (${(error as Error).message}); other replicas will catch up within the cache TTL`)
      }
    },
    async close() {
      await pub.quit().catch(() => pub.disconnect())
    },
  }
}

/** Publisher plus a dedicated subscriber that feeds `handlers`; ignores its own messages. */
export async function createInvalidator(
  url: string,
  channel: string,
  logger: ConsolaInstance,
  handlers: InvalidationHandlers,
): Promise<Invalidator> {
  const origin = randomUUID()
  const publisher = createPublisher(url, channel, logger, origin)
  const sub = new Redis(url, { ...connectionOptions, maxRetriesPerRequest: null })
  let connectedOnce = false
  sub.on('error', (error: Error) => logger.warn(`keys: redis subscriber: ${error.message}`))
  sub.on('ready', () => {
    if (connectedOnce) handlers.onReset()
    connectedOnce = true
  })
  sub.on('message', (_channel: string, message: string) => {
    const id = parseMessage(message, origin)
    if (id) handlers.onKey(id)
  })
  // Wait briefly for the subscription so start-up normally has it, but never hang start-up on a Redis outage:
  // ioredis sends the queued SUBSCRIBE once it connects.
  const subscribed = sub.subscribe(channel).then(
    () => true,
    (error: Error) => {
      logger.warn(`keys: could not subscribe to invalidations (${error.message}); relying on the cache TTL`)
      return false
    },
  )
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), SUBSCRIBE_WAIT_MS)
    timer.unref()
  })
  if ((await Promise.race([subscribed, gaveUp])) === 'timeout') {
    logger.warn('keys: Redis invalidation channel not ready yet; relying on the cache TTL until it is')
  }
  clearTimeout(timer)
  return {
    publish: publisher.publish,
    async close() {
      await Promise.all([publisher.close(), sub.quit().catch(() => sub.disconnect())])
    },
  }
}

function parseMessage(message: string, origin: string): string | undefined {
  try {
    const parsed = JSON.parse(message) as { id?: unknown; origin?: unknown }
    if (parsed.origin === origin || typeof parsed.id !== 'string') return undefined
    return parsed.id
  } catch {
    return undefined
  }
}
