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
import { mountApiRoutes, mountFallback } from './routes.ts'
import { resolveConfig, type ResolvedConfig } from './config.ts'
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
  close(): Promise<void>
}

export async function createGateway(input: GatewayConfig | ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const config = 'server' in input && typeof input.server?.bodyLimit === 'number' && Array.isArray(input.plugins) ? input as ResolvedConfig : resolveConfig(input)
  const logger = options.logger ?? createLogger(config.logLevel)
  const clock = options.clock ?? realClock
  const storage = options.storage ?? await createGatewayStorage(config.storage ?? DEFAULT_STORAGE)
  const app = new H3()
  const admin = createAdminMount(app, config.adminKey, logger)
  const host = new PluginHost(config.plugins, { logger, storage, app, clock, mountAdmin: admin.mount })
  const pipeline = new Pipeline({ host, logger, clock, bodyLimit: config.server.bodyLimit })
  host.options.authorize = (request, api) => pipeline.authorize(request, api ?? 'openai-chat')
  let ready = false
  let closed = false

  // x-request-id on every response; the pipeline's routes set their own (the same id is recorded).
  app.use((event) => {
    if (!event.url.pathname.startsWith('/v1')) event.res.headers.set('x-request-id', newRequestId())
  })
  mountApiRoutes(app, pipeline, host)
  app.get('/health', () => ({ status: 'ok' }))
  app.get('/ready', (event) => {
    if (ready && !closed) return { status: 'ready', inflight: pipeline.inflight }
    event.res.status = 503
    return { status: closed ? 'closing' : 'starting' }
  })

  await host.setup()
  await host.start()
  mountFallback(app)
  ready = true

  return {
    config,
    app,
    host,
    pipeline,
    logger,
    fetch: (request) => Promise.resolve(app.fetch(request)),
    isReady: () => ready && !closed,
    async close() {
      if (closed) return
      closed = true
      await pipeline.settled(config.server.shutdownTimeout)
      await host.stop()
      if (!options.storage) await storage.dispose()
    },
  }
}
