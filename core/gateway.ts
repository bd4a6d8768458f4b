/**
 * A gateway instance: one validated config turned into a plugin host, a pipeline and an h3 app. Hot reload
 * builds a new instance and swaps it in; the old one finishes its requests and is closed.
 */
import { H3 } from 'h3'
import type { ConsolaInstance } from 'consola'
import type { Storage } from 'unstorage'
import { createLogger } from './logger.ts'
import { createGatewayStorage, DEFAULT_STORAGE } from './storage.ts'
import { PluginHost } from './host.ts'
import { Pipeline } from './pipeline.ts'
import { realClock } from './clock.ts'
import { createAdminMount } from './admin.ts'
import { newRequestId } from './context.ts'
import { ConfigError } from './errors.ts'
import { currentWorker } from './workers.ts'
import { mountApiRoutes, mountFallback, isJsonApiPath } from './routes.ts'
import { createEdgeGuard, edgeError } from './edge.ts'
import { isResolvedConfig, resolveConfig, type ResolvedConfig } from './config.ts'
import type { Clock, GatewayConfig } from './types.ts'

export interface GatewayOptions {
  clock?: Clock
  logger?: ConsolaInstance
  /** Use this storage instead of building one from `config.storage` (tests; shared across reloads). */
  storage?: Storage
}

export interface Gateway {
  readonly config: ResolvedConfig
  readonly app: H3
  readonly host: PluginHost
  readonly pipeline: Pipeline
  readonly logger: ConsolaInstance
  /** Serves one web Request (what the server calls; also handy in tests). */
  fetch(request: Request): Promise<Response>
  isReady(): boolean
  /** Shutdown has begun: `/ready` answers 503 `closing` from now on; requests are still served until `close`. */
  shutdown(): void
  /** Waits for record hooks, runs the plugins' teardowns; every request after it gets 503 `shutting down`. */
  close(): Promise<void>
}

export async function createGateway(input: GatewayConfig | ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const config = isResolvedConfig(input) ? input : resolveConfig(input)
  const logger = options.logger ?? createLogger(config.logLevel)
  const clock = options.clock ?? realClock
  if (!options.storage && currentWorker().count > 1 && (config.storage ?? DEFAULT_STORAGE).driver === 'memory') {
    throw new ConfigError('storage: the memory driver keeps state in one process, so workers would not share keys or conversations; with --workers use fs or redis')
  }
  const storage = options.storage ?? await createGatewayStorage(config.storage ?? DEFAULT_STORAGE)
  const app = new H3()
  const admin = createAdminMount(app, config.adminKey, logger)
  const host = new PluginHost(config.plugins, { logger, storage, app, clock, mountAdmin: admin.mount })
  const pipeline = new Pipeline({ host, logger, clock, bodyLimit: config.server.bodyLimit })
  host.options.authorize = (request, api) => pipeline.authorize(request, api ?? 'openai-chat')
  let ready = false
  let shuttingDown = false
  let closed = false
  let closing: Promise<void> | undefined
  let hasAuth = false

  // Plugins are torn down: nothing can be served any more (a request on a connection still open gets this).
  app.use((event) => {
    if (closed) return edgeError(event.url.pathname, 503, 'the gateway is shutting down', 'api_error', 'shutting_down', { connection: 'close' })
  })
  const edge = createEdgeGuard({ server: config.server, hasAuth: () => hasAuth, isJsonApiPath })
  app.use(edge.middleware)
  // x-request-id on every response; the pipeline's routes set their own (the same id is recorded).
  app.use((event) => {
    if (!event.url.pathname.startsWith('/v1')) event.res.headers.set('x-request-id', newRequestId())
  })
  mountApiRoutes(app, pipeline, host)
  app.get('/health', () => ({ status: 'ok' }))
  app.get('/ready', (event) => {
    if (ready && !shuttingDown && !closed) return { status: 'ready', inflight: pipeline.inflight }
    event.res.status = 503
    return { status: shuttingDown || closed ? 'closing' : 'starting' }
  })

  await host.setup()
  await host.start()
  hasAuth = [...host.registered.values()].some((hooks) => hooks.has('auth'))
  mountFallback(app)
  ready = true

  return {
    config,
    app,
    host,
    pipeline,
    logger,
    fetch: config.server.cors
      ? async (request) => edge.decorate(request, await app.fetch(request))
      : (request) => Promise.resolve(app.fetch(request)),
    isReady: () => ready && !shuttingDown && !closed,
    shutdown() {
      shuttingDown = true
    },
    close() {
      closing ??= (async () => {
        shuttingDown = true
        closed = true
        await pipeline.settled(config.server.shutdownTimeout)
        await host.stop()
        if (!options.storage) await storage.dispose()
      })()
      return closing
    },
  }
}
