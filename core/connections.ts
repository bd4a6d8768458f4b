/**
 * Client connection limits for the Node HTTP server srvx creates.
 *
 * Node enforces the timeouts: `headersTimeout` (a socket that has not sent complete headers in time gets a 408
 * and is closed: silent and trickling-header sockets), `requestTimeout` (the whole request, body included: a
 * trickled body is cut), `keepAliveTimeout` (idle keep-alive sockets). Node checks the first two only every
 * `connectionsCheckingInterval` (30 s by default), so the interval is derived from them.
 *
 * The connection cap is kept here rather than with Node's `server.maxConnections`, which refuses every new
 * connection once full: a few thousand silent sockets would then lock real clients out until they time out.
 * At the cap a new connection instead evicts the oldest one that has no request in progress (never sent one
 * first, then idle keep-alive); only when every connection is busy is the new one refused.
 *
 * Draining (shutdown) never closes a keep-alive socket under a request that may be on its way: a load balancer
 * that picked an idle socket a moment ago has already sent its request, and closing the socket then makes the
 * balancer answer 502 (it does not resend a POST it has sent). So while draining every response says
 * `connection: close` and its socket closes once it is written; an idle socket stays open until it carries one
 * more request, its client closes it, or `keepAliveTimeout` ends it as it would any idle socket (the balancer's
 * own idle timeout is set shorter, so it closes first: docs/deploy.md).
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ConsolaInstance } from 'consola'
import { counter, gauge } from './metrics.ts'

/** Default cap when the open-file limit is high: far more concurrent clients than one process serves well. */
const MAX_CONNECTIONS_CEILING = 8192
/** When the open-file limit cannot be read (not Linux). */
const MAX_CONNECTIONS_FALLBACK = 1024

let fileLimit: number | undefined | null = null

/** The process's open-file (soft) limit, from /proc on Linux; Node raises it to the hard limit at start. */
export function openFileLimit(): number | undefined {
  if (fileLimit !== null) return fileLimit
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    fileLimit = match ? Number(match[1]) : undefined
  } catch {
    fileLimit = undefined
  }
  return fileLimit
}

/**
 * Half the open-file limit, at most 8192: every proxied request also holds an upstream socket, and the stores,
 * the spill file and Redis need descriptors too. Running out of descriptors fails everything, not one client.
 */
export function defaultMaxConnections(): number {
  const limit = openFileLimit()
  return limit ? Math.max(1, Math.min(MAX_CONNECTIONS_CEILING, Math.floor(limit / 2))) : MAX_CONNECTIONS_FALLBACK
}

export interface ConnectionLimits {
  maxConnections: number
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
}

/** Options for `http.createServer` (srvx passes `serve({ node })` through): the timeouts and how often Node checks them. */
export function nodeServerOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeout,
    requestTimeout: limits.requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeout / 4))),
  }
}

const openGauge = gauge('sluice_connections_open', 'Open client connections')
const shed = counter('sluice_connections_shed_total', 'Client connections closed at the connection cap', ['reason'])
const WARN_EVERY_MS = 60_000

export class ConnectionGuard {
  /** Connected, no request received yet (oldest first: Sets keep insertion order). */
  readonly #fresh = new Set<Socket>()
  /** Keep-alive sockets between requests. */
  readonly #idle = new Set<Socket>()
  /** Sockets with a request in progress, and how many (pipelining). */
  readonly #busy = new Map<Socket, number>()
  #draining = false
  #warnedAt = -Infinity

  constructor(server: Server, readonly maxConnections: number, private readonly logger: ConsolaInstance, private readonly keepAliveTimeout = 5000) {
    server.on('connection', (socket: Socket) => this.#accept(socket))
    // Before srvx's own listener, so a draining response is marked before its headers can be written.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.#request(req.socket, res))
  }

  get open(): number {
    return this.#fresh.size + this.#idle.size + this.#busy.size
  }

  /** Open connections, and how many of them have a request in progress. */
  stats(): { open: number; busy: number } {
    return { open: this.open, busy: this.#busy.size }
  }

  /**
   * Shutdown: responses whose headers are still to be written say `connection: close` and Node closes their
   * socket once they are out, so no connection takes new work after it. Idle keep-alive sockets (and those whose
   * response promised keep-alive before the drain) are left to `keepAliveTimeout` or their client, and so are
   * connections that have not sent a request yet: see the comment at the top.
   */
  drain(): void {
    this.#draining = true
    const fresh = [...this.#fresh]
    if (fresh.length) {
      setTimeout(() => { for (const socket of fresh) if (this.#fresh.has(socket)) socket.destroy() }, this.keepAliveTimeout).unref()
    }
  }

  /**
   * Connections with no request in progress (idle keep-alive, or connected and silent so far): the ones a client
   * may be sending a request on right now, which a drain must not close under it.
   */
  get waiting(): number {
    return this.#fresh.size + this.#idle.size
  }

  #accept(socket: Socket): void {
    if (this.open >= this.maxConnections) {
      const victim = first(this.#fresh) ?? first(this.#idle)
      if (victim) {
        this.#forget(victim)
        victim.destroy()
        this.#shed('evicted')
      } else {
        socket.destroy()
        this.#shed('refused')
        return
      }
    }
    this.#fresh.add(socket)
    openGauge.set(this.open)
    socket.once('close', () => {
      this.#forget(socket)
      openGauge.set(this.open)
    })
  }

  #request(socket: Socket, res: ServerResponse): void {
    if (!this.#fresh.delete(socket) && !this.#idle.delete(socket) && !this.#busy.has(socket)) return // evicted meanwhile
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1)
    if (this.#draining) res.shouldKeepAlive = false
    res.once('close', () => {
      const left = (this.#busy.get(socket) ?? 1) - 1
      if (left > 0) return void this.#busy.set(socket, left)
      if (!this.#busy.delete(socket) || socket.destroyed) return
      // Idle again, even while draining: a response that promised keep-alive before the drain began lets the
      // client send its next request the moment this one ends, so the socket is not closed under it (the next
      // response says `connection: close`). A `connection: close` response's socket is closed by Node.
      this.#idle.add(socket)
    })
  }

  #forget(socket: Socket): void {
    this.#fresh.delete(socket)
    this.#idle.delete(socket)
    this.#busy.delete(socket)
  }

  #shed(reason: 'evicted' | 'refused'): void {
    shed.inc({ reason })
    const now = Date.now()
    if (now - this.#warnedAt < WARN_EVERY_MS) return
    this.#warnedAt = now
    this.logger.warn(reason === 'evicted'
      ? `server.maxConnections (${this.maxConnections}) reached: closing the oldest connections that have no request in progress`
      : `server.maxConnections (${this.maxConnections}) reached with every connection busy: refusing new connections`)
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const value of set) return value
  return undefined
}
