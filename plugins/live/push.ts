/**
 * Tells every replica that a new snapshot exists: Redis pub/sub, or Postgres LISTEN/NOTIFY when there is no
 * Redis. A message carries only the version; each replica reads the snapshot from the store. A message lost
 * while a subscriber was disconnected is caught on reconnect (and by the periodic check of the head).
 */
import { Redis } from 'ioredis'
import pg from 'pg'
import type { ConsolaInstance } from 'consola'

export interface Push {
  publish(version: number): Promise<void>
  close(): Promise<void>
}

export interface PushHandlers {
  onVersion(version: number): void
  /** Messages may have been missed (a reconnect): look at the head. */
  onReset(): void
}

const parse = (message: string): number | undefined => {
  const version = Number(message)
  return Number.isInteger(version) && version > 0 ? version : undefined
}

export async function redisPush(url: string, channel: string, logger: ConsolaInstance, handlers: PushHandlers): Promise<Push> {
  const pub = new Redis(url, { maxRetriesPerRequest: 2 })
  const sub = new Redis(url, { maxRetriesPerRequest: null })
  pub.on('error', (error: Error) => logger.warn(`live: redis publisher: ${error.message}`))
  sub.on('error', (error: Error) => logger.warn(`live: redis subscriber: ${error.message}`))
  let connectedOnce = false
  sub.on('ready', () => {
    if (connectedOnce) handlers.onReset()
    connectedOnce = true
  })
  sub.on('message', (_channel: string, message: string) => {
    const version = parse(message)
    if (version) handlers.onVersion(version)
  })
  await sub.subscribe(channel).catch((error: Error) => logger.warn(`live: could not subscribe to ${channel} (${error.message}); checking the store periodically`))
  return {
    async publish(version) {
      await pub.publish(channel, String(version)).catch((error: Error) => logger.warn(`live: could not publish version ${version} (${error.message}); other replicas pick it up at their next check`))
    },
    async close() {
      await Promise.all([pub.quit().catch(() => pub.disconnect()), sub.quit().catch(() => sub.disconnect())])
    },
  }
}

export async function postgresPush(pool: pg.Pool, url: string, channel: string, logger: ConsolaInstance, handlers: PushHandlers): Promise<Push> {
  let client: pg.Client | undefined
  let closed = false
  const listen = async () => {
    const next = new pg.Client({ connectionString: url })
    next.on('notification', (message) => {
      const version = parse(message.payload ?? '')
      if (version) handlers.onVersion(version)
    })
    next.on('error', (error) => {
      logger.warn(`live: postgres listener: ${error.message}; reconnecting`)
      void next.end().catch(() => {})
      if (!closed) setTimeout(() => void listen().then(() => handlers.onReset(), () => {}), 1000).unref()
    })
    await next.connect()
    await next.query(`LISTEN "${channel}"`)
    client = next
  }
  await listen().catch((error: Error) => logger.warn(`live: could not LISTEN on ${channel} (${error.message}); checking the store periodically`))
  return {
    async publish(version) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, String(version)]).catch((error: Error) => logger.warn(`live: could not notify version ${version} (${error.message})`))
    },
    async close() {
      closed = true
      await client?.end().catch(() => {})
    },
  }
}
