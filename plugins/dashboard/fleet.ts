/**
 * `dashboard({ fleet: { redis } })`: one dashboard over every replica. Each replica publishes its finished
 * records (with its name) on a Redis channel and folds every other replica's into its own statistics, so the
 * overview's percentiles and the targets' numbers cover the fleet (from when this replica started listening);
 * the live feed (`GET /admin/dashboard/feed`) carries every replica's records, each naming its replica; and each
 * replica writes a heartbeat (requests in flight, breaker states) that `GET /admin/dashboard/fleet` lists.
 * Redis down: each replica shows what it sees itself, and the fleet list is empty until Redis is back.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { ConsolaInstance } from 'consola'
import type { PluginContext, RequestRecord } from '../../core/index.ts'
import { BucketRing, summarize, type LiveStats } from './stats.ts'

export interface FleetSettings {
  redis: string
  prefix: string
  heartbeatMs: number
}

export interface ReplicaBeat {
  replica: string
  at: number
  inflight: number
  breakers: Array<{ target: string; state: string; failures: number; requests: number }>
}

type Listener = (record: RequestRecord & { replica: string }) => void

const RECENT_MINUTES = 5

export class Fleet {
  readonly #origin = randomUUID()
  readonly #listeners = new Set<Listener>()
  /** Per replica, its last minutes of records (for the fleet list). */
  readonly #recent = new Map<string, BucketRing>()
  #pub?: Redis
  #sub?: Redis
  #timer?: NodeJS.Timeout

  constructor(
    private readonly settings: FleetSettings,
    readonly replica: string,
    private readonly stats: LiveStats,
    private readonly logger: ConsolaInstance,
    private readonly beat: () => Omit<ReplicaBeat, 'replica' | 'at'>,
  ) {}

  get #channel(): string {
    return `${this.settings.prefix}:records`
  }

  async start(): Promise<void> {
    this.#pub = new Redis(this.settings.redis, { maxRetriesPerRequest: 1 })
    this.#sub = new Redis(this.settings.redis, { maxRetriesPerRequest: null })
    this.#pub.on('error', (error: Error) => this.logger.warn(`dashboard fleet: redis: ${error.message}`))
    this.#sub.on('error', () => {}) // the publisher reports the same outage
    this.#sub.on('message', (_channel: string, message: string) => this.#received(message))
    await this.#sub.subscribe(this.#channel).catch((error: Error) => this.logger.warn(`dashboard fleet: could not subscribe (${error.message}); showing this replica only until Redis is back`))
    const beat = () => void this.#heartbeat()
    beat()
    this.#timer = setInterval(beat, this.settings.heartbeatMs)
    this.#timer.unref()
  }

  /** A record finished here: counted here at once, and sent to the other replicas. */
  local(record: RequestRecord): void {
    this.#fold(this.replica, record)
    if (!this.#pub || this.#pub.status !== 'ready') return
    this.#pub.publish(this.#channel, JSON.stringify({ origin: this.#origin, replica: this.replica, record })).catch(() => {})
  }

  #received(message: string): void {
    let parsed: { origin?: string; replica?: unknown; record?: RequestRecord }
    try {
      parsed = JSON.parse(message)
    } catch {
      return
    }
    if (parsed.origin === this.#origin || typeof parsed.replica !== 'string' || !parsed.record || typeof parsed.record !== 'object') return
    this.stats.observe(parsed.record)
    this.#fold(parsed.replica, parsed.record)
  }

  #fold(replica: string, record: RequestRecord): void {
    let ring = this.#recent.get(replica)
    if (!ring) {
      if (this.#recent.size >= 1000) this.#recent.delete(this.#recent.keys().next().value!)
      this.#recent.set(replica, (ring = new BucketRing(60_000, RECENT_MINUTES)))
    }
    ring.add(record, Number.isFinite(record.startedAt) ? record.startedAt : record.endedAt)
    const tagged = { ...record, replica }
    for (const listener of this.#listeners) listener(tagged)
  }

  /** Every replica's records, each with `replica`, as they finish. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #heartbeat(): Promise<void> {
    if (!this.#pub || this.#pub.status !== 'ready') return
    const beat: ReplicaBeat = { replica: this.replica, at: Date.now(), ...this.beat() }
    await this.#pub.set(`${this.settings.prefix}:replica:${this.replica}`, JSON.stringify(beat), 'PX', this.settings.heartbeatMs * 3).catch(() => {})
  }

  /** Replicas that sent a heartbeat lately, each with its last minutes of traffic. */
  async replicas(now: number): Promise<Array<ReplicaBeat & { recent: ReturnType<typeof summarize> }>> {
    const beats: ReplicaBeat[] = []
    if (this.#pub?.status === 'ready') {
      const keys: string[] = []
      let cursor = '0'
      do {
        const [next, found] = await this.#pub.scan(cursor, 'MATCH', `${this.settings.prefix}:replica:*`, 'COUNT', 500)
        cursor = next
        keys.push(...found)
      } while (cursor !== '0' && keys.length < 1000)
      const values = keys.length ? await this.#pub.mget(...keys) : []
      for (const value of values) {
        try {
          if (value) beats.push(JSON.parse(value))
        } catch {}
      }
    }
    if (!beats.some((b) => b.replica === this.replica)) beats.push({ replica: this.replica, at: now, ...this.beat() })
    return beats
      .map((beat) => ({ ...beat, recent: summarize(this.#recent.get(beat.replica)?.window(now, RECENT_MINUTES) ?? []) }))
      .sort((a, b) => a.replica.localeCompare(b.replica))
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#listeners.clear()
    await this.#pub?.del(`${this.settings.prefix}:replica:${this.replica}`).catch(() => {})
    await Promise.all([this.#pub?.quit().catch(() => this.#pub?.disconnect()), this.#sub?.quit().catch(() => this.#sub?.disconnect())])
  }
}

const encoder = new TextEncoder()

/**
 * The fleet's live feed as server-sent events, the same events as `GET /admin/events` (`record`, `lagged`):
 * each subscriber has a bounded buffer drained as its connection pulls; a slow one skips and is told how many.
 */
export function fleetFeedStream(fleet: Fleet, bufferSize: number, signal: AbortSignal): ReadableStream<Uint8Array> {
  const buffer: string[] = []
  let skipped = 0
  let wake: (() => void) | undefined
  let unsubscribe = () => {}
  let heartbeat: NodeJS.Timeout | undefined
  const stop = () => {
    unsubscribe()
    clearInterval(heartbeat)
    wake?.()
  }
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(': connected\n\n'))
      unsubscribe = fleet.subscribe((record) => {
        if (buffer.length >= bufferSize) skipped++
        else buffer.push(`event: record\nid: ${record.id}\ndata: ${JSON.stringify(record)}\n\n`)
        wake?.()
      })
      heartbeat = setInterval(() => { buffer.push(': keep-alive\n\n'); wake?.() }, 15_000)
      heartbeat.unref()
      signal.addEventListener('abort', () => {
        stop()
        try { controller.close() } catch {}
      }, { once: true })
    },
    async pull(controller) {
      while (buffer.length === 0 && !signal.aborted) await new Promise<void>((resolve) => { wake = resolve })
      wake = undefined
      if (signal.aborted) return
      let text = buffer.splice(0).join('')
      if (skipped) {
        text += `event: lagged\ndata: ${JSON.stringify({ skipped })}\n\n`
        skipped = 0
      }
      controller.enqueue(encoder.encode(text))
    },
    cancel: stop,
  }, { highWaterMark: 0 })
}

/**
 *   GET /admin/dashboard/fleet   the replicas with a recent heartbeat: in flight, breaker states, last 5 minutes
 *   GET /admin/dashboard/feed    every replica's finished records as server-sent events, each naming its replica
 */
export function mountFleetApi(gw: Pick<PluginContext, 'admin' | 'clock'>, fleet: Fleet, bufferSize = 256): void {
  gw.admin('GET', '/dashboard/fleet', async () => {
    const replicas = await fleet.replicas(gw.clock.now())
    return { replica: fleet.replica, replicas, inflight: replicas.reduce((sum, r) => sum + r.inflight, 0) }
  })
  gw.admin('GET', '/dashboard/feed', (event) => {
    return new Response(fleetFeedStream(fleet, bufferSize, event.req.signal), {
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    })
  })
}
