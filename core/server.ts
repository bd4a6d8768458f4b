/**
 * Runs a gateway as a Node HTTP server (srvx): serves the current instance, swaps instances on hot reload
 * without dropping in-flight requests, and shuts down gracefully.
 */
import type { Server as NodeServer } from 'node:http'
import { Server as NetServer } from 'node:net'
import { serve, type Server } from 'srvx'
import type { ConsolaInstance } from 'consola'
import { createGateway, type Gateway, type GatewayOptions } from './gateway.ts'
import type { ResolvedConfig } from './config.ts'
import { ConnectionGuard, nodeServerOptions, openFileLimit } from './connections.ts'
import { createLogger } from './logger.ts'

export interface RunningServer {
  readonly url: string
  readonly port: number
  current(): Gateway
  /** Open client connections, and how many have a request in progress. */
  connections(): { open: number; busy: number }
  /** Builds a gateway from `config` and swaps it in; the old one drains, then closes. */
  reload(config: ResolvedConfig): Promise<void>
  /**
   * Stops accepting, lets in-flight requests finish (up to the shutdown timeout) while no connection takes new
   * ones, runs teardowns.
   */
  close(): Promise<void>
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

export async function startServer(config: ResolvedConfig, options: GatewayOptions = {}): Promise<RunningServer> {
  const logger: ConsolaInstance = options.logger ?? createLogger(config.logLevel)
  let gateway = await createGateway(config, { ...options, logger })
  const server: Server = serve({
    fetch: (request) => gateway.fetch(request),
    port: config.server.port,
    hostname: config.server.host,
    silent: true,
    gracefulShutdown: false,
    // srvx listens `exclusive` by default, which gives every `--workers` worker a socket of its own (and EADDRINUSE
    // on a fixed port): workers must share the primary's.
    node: { ...nodeServerOptions(config.server), exclusive: false },
  })
  const nodeServer = server.node!.server as NodeServer
  const connections = new ConnectionGuard(nodeServer, config.server.maxConnections, logger, config.server.keepAliveTimeout)
  await server.ready()
  warnIfOverFileLimit(config.server.maxConnections, logger)
  const address = server.node?.server?.address()
  const port = typeof address === 'object' && address ? address.port : config.server.port
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  const url = `http://${host}:${port}`
  warnIfExposed(gateway, logger)

  /** Waits for the old gateway's requests (at most `timeoutMs`), then tears it down. */
  async function retire(old: Gateway, timeoutMs: number) {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([old.pipeline.drained(), new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs) })])
    clearTimeout(timer)
    await old.close()
  }

  let closing: Promise<void> | undefined
  return {
    url,
    port,
    current: () => gateway,
    connections: () => connections.stats(),
    async reload(next) {
      if (RESTART_ONLY.some((key) => JSON.stringify(next.server[key]) !== JSON.stringify(config.server[key]))) {
        logger.warn(`changes to ${RESTART_ONLY.map((key) => `server.${key}`).join(', ')} take effect after a restart`)
      }
      const fresh = await createGateway(next, { ...options, logger })
      const old = gateway
      gateway = fresh
      warnIfExposed(fresh, logger)
      await retire(old, next.server.shutdownTimeout)
    },
    close() {
      closing ??= (async () => {
        gateway.shutdown() // /ready: 503 closing, at once
        // Responses from now on say `connection: close`; idle keep-alive sockets are not closed under a request
        // that may be on its way (see ConnectionGuard). The drain ends when no request is in flight and no
        // connection is idle (they end by `keepAliveTimeout` or their client), or at the shutdown timeout. A
        // connection busy with something else (the dashboard's live feed) is ended by the teardown that follows.
        connections.drain()
        const stopped = stopListening(nodeServer)
        const old = gateway
        const deadline = Date.now() + config.server.shutdownTimeout
        await new Promise((resolve) => setImmediate(resolve)) // requests already handed to the gateway get in first
        while ((old.pipeline.inflight > 0 || connections.waiting > 0) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, Math.max(1, deadline - Date.now()))))
        }
        await old.close()
        nodeServer.closeAllConnections()
        await stopped
        await server.close() // srvx's own bookkeeping; the listener is already closed
      })()
      return closing
    },
  }
}

/**
 * Stops taking new connections and nothing else: Node's http `server.close()` also closes every idle keep-alive
 * connection at once, the very thing that loses requests already sent on them (see ConnectionGuard).
 */
function stopListening(server: NodeServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    NetServer.prototype.close.call(server, () => resolve())
  })
}

/** How often a drain looks whether requests and idle connections are done (only while shutting down). */
const DRAIN_POLL_MS = 25

/** Server options the running Node server was created with; the others apply to the next gateway on reload. */
const RESTART_ONLY = ['port', 'host', 'maxConnections', 'headersTimeout', 'requestTimeout', 'keepAliveTimeout'] as const

function warnIfOverFileLimit(maxConnections: number, logger: ConsolaInstance) {
  const limit = openFileLimit()
  if (limit && maxConnections > limit / 2) {
    logger.warn(`server.maxConnections (${maxConnections}) is over half the open-file limit (${limit}): upstream sockets and stores may run out of descriptors; raise the limit (ulimit -n) or lower server.maxConnections`)
  }
}

function warnIfExposed(gateway: Gateway, logger: ConsolaInstance) {
  const hasAuth = [...gateway.host.registered.values()].some((hooks) => hooks.has('auth'))
  if (!hasAuth && !LOOPBACK.test(gateway.config.server.host)) {
    logger.warn(`listening on ${gateway.config.server.host} with no auth plugin: anyone who can reach this port can use your providers`)
  }
}
