/**
 * Loads `gateway.config.ts` with c12 (jiti runs the TypeScript, `.env` is loaded first) and validates it.
 * Any problem becomes a ConfigError whose message is one line naming the key.
 */
import { resolve, dirname, basename, extname } from 'node:path'
import { existsSync } from 'node:fs'
import { loadConfig, watchConfig } from 'c12'
import { ConfigError } from './errors.ts'
import { describeIssue, z } from './options.ts'
import { parseSize } from './body.ts'
import { defaultMaxConnections } from './connections.ts'
import { HOOK_NAMES, type GatewayConfig, type SluicePlugin } from './types.ts'

export const DEFAULT_PORT = 8787
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000
/** Time a client has to send its request headers: long enough for any real client, short enough to shed idle sockets. */
export const DEFAULT_HEADERS_TIMEOUT = 10_000
/** Time a client has to send its whole request (headers and body): a 4 MB body at ~1 Mbit/s fits. */
export const DEFAULT_REQUEST_TIMEOUT = 30_000
export const DEFAULT_KEEP_ALIVE_TIMEOUT = 5_000

const sizeSchema = z.union([
  z.number().int().positive(),
  z.string().refine((s) => { try { return parseSize(s) > 0 } catch { return false } }, 'expected a size such as "4mb" or a number of bytes'),
])

// z.function() would replace each function with a validating wrapper (a cost on every hook call): check the type only.
const fn = z.custom<(...args: any[]) => unknown>((value) => typeof value === 'function', 'expected a function')
const hookSchema = z.strictObject(Object.fromEntries(HOOK_NAMES.map((name) => [name, fn.optional()])))

// Strict: a misspelt field (`setUp`, `hook`) would otherwise be ignored without a word.
const pluginSchema = z.strictObject({
  name: z.string().min(1),
  order: z.number().optional(),
  enforce: z.enum(['pre', 'post']).optional(),
  hooks: hookSchema.optional(),
  setup: fn.optional(),
  cli: fn.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
})

const milliseconds = z.number().int().positive('expected a number of milliseconds above 0')
// A Host name as a browser sends it, without the port: `gateway.example.com`, `10.0.0.5`, `::1`.
const hostName = z.string().regex(/^(\[?[0-9a-f:.]+\]?|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?)$/i, 'expected a host name without a port, such as "gateway.example.com"')
const origin = z.string().regex(/^https?:\/\/[^/\s?#]+$/i, 'expected an origin such as "https://app.example.com" (scheme and host, no path)')

const serverSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  bodyLimit: sizeSchema.optional(),
  shutdownTimeout: z.number().int().nonnegative().optional(),
  maxConnections: z.number().int().positive('expected a number of connections above 0').optional(),
  headersTimeout: milliseconds.optional(),
  requestTimeout: milliseconds.optional(),
  keepAliveTimeout: milliseconds.optional(),
  allowedHosts: z.array(hostName).optional(),
  cors: z.array(origin).optional(),
}).refine(
  (server) => (server.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT) <= (server.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT),
  { message: 'must not be longer than server.requestTimeout (the whole request includes its headers)', path: ['headersTimeout'] },
)

const configSchema = z.strictObject({
  server: serverSchema.optional(),
  storage: z.looseObject({ driver: z.string().min(1) }).optional(),
  plugins: z.array(pluginSchema).optional(),
  adminKey: z.string().min(16, 'the admin key must be at least 16 characters').optional(),
  logLevel: z.enum(['silent', 'error', 'warn', 'info', 'debug']).optional(),
})

/** What users may write under `server` (merged into core/types.ts's ServerOptions below). */
export type ServerConfigInput = z.input<typeof serverSchema>

export interface ResolvedServerConfig {
  port: number
  host: string
  bodyLimit: number
  shutdownTimeout: number
  maxConnections: number
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  allowedHosts?: string[]
  cors?: string[]
}

/** Marks a config that went through resolveConfig (kept by object spread, unlike a WeakSet entry). */
export const RESOLVED: unique symbol = Symbol.for('sluice.ResolvedConfig') as any

export interface ResolvedConfig extends GatewayConfig {
  server: ResolvedServerConfig
  plugins: SluicePlugin[]
  readonly [RESOLVED]?: true
}

export function isResolvedConfig(input: unknown): input is ResolvedConfig {
  return typeof input === 'object' && input !== null && (input as any)[RESOLVED] === true
}

const PLUGIN_FIELDS = Object.keys(pluginSchema.shape)

/** A misspelt plugin field or hook name, named with the plugin it is on (clearer than a path into the array). */
function assertPluginFields(plugins: unknown, source: string): void {
  if (!Array.isArray(plugins)) return
  plugins.forEach((plugin, i) => {
    if (typeof plugin !== 'object' || plugin === null) return
    const name = typeof (plugin as SluicePlugin).name === 'string' ? `plugin "${(plugin as SluicePlugin).name}"` : `plugins[${i}]`
    for (const key of Object.keys(plugin)) {
      if (!PLUGIN_FIELDS.includes(key)) throw new ConfigError(`${source}: ${name}: unknown field "${key}" (a plugin has ${PLUGIN_FIELDS.join(', ')})`)
    }
    const hooks = (plugin as SluicePlugin).hooks
    if (hooks && typeof hooks === 'object') {
      for (const key of Object.keys(hooks)) {
        if (!(HOOK_NAMES as readonly string[]).includes(key)) throw new ConfigError(`${source}: ${name}: unknown hook "${key}" (hooks are ${HOOK_NAMES.join(', ')})`)
      }
    }
  })
}

/** Validates a config object (from a file or built in code) and fills defaults. */
export function resolveConfig(input: unknown, source = 'config'): ResolvedConfig {
  if (typeof input !== 'object' || input === null) throw new ConfigError(`${source}: must export a config object (use defineGatewayConfig)`)
  assertPluginFields((input as GatewayConfig).plugins, source)
  const result = configSchema.safeParse(input, { reportInput: true })
  if (!result.success) throw new ConfigError(`${source}: ${describeIssue(result.error.issues[0]!).replace(/^option/, 'key').replace(/^unknown option/, 'unknown key')}`)
  const config = result.data as GatewayConfig
  const plugins = (config.plugins ?? []) as SluicePlugin[]
  const seen = new Set<string>()
  for (const plugin of plugins) {
    if (seen.has(plugin.name)) throw new ConfigError(`${source}: two plugins are named "${plugin.name}" (give the second instance another name)`)
    seen.add(plugin.name)
  }
  const server = config.server ?? {}
  return {
    ...config,
    server: {
      port: server.port ?? DEFAULT_PORT,
      host: server.host ?? DEFAULT_HOST,
      bodyLimit: server.bodyLimit === undefined ? DEFAULT_BODY_LIMIT : parseSize(server.bodyLimit),
      shutdownTimeout: server.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT,
      maxConnections: server.maxConnections ?? defaultMaxConnections(),
      headersTimeout: server.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT,
      requestTimeout: server.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT,
      keepAliveTimeout: server.keepAliveTimeout ?? DEFAULT_KEEP_ALIVE_TIMEOUT,
      ...(server.allowedHosts && { allowedHosts: server.allowedHosts.map((name) => name.toLowerCase()) }),
      ...(server.cors && { cors: server.cors.map((entry) => new URL(entry).origin) }),
    },
    plugins,
    [RESOLVED]: true,
  }
}

const PACKAGE_ROOT = resolve(import.meta.dirname, '..')

/**
 * `sluice` and its subpaths, for configs outside this package: a `gateway.config.ts` in any folder can import
 * from 'sluice' when run by this CLI, whether or not the package is installed next to it.
 */
export const SLUICE_ALIASES: Record<string, string> = {
  'sluice/plugins/providers': resolve(PACKAGE_ROOT, 'plugins/providers/index.ts'),
  'sluice/plugins': resolve(PACKAGE_ROOT, 'plugins/index.ts'),
  'sluice/testing': resolve(PACKAGE_ROOT, 'testing/index.ts'),
  sluice: resolve(PACKAGE_ROOT, 'core/index.ts'),
}

function locate(file?: string, cwd = process.cwd()) {
  const path = resolve(cwd, file ?? 'gateway.config.ts')
  if (!existsSync(path)) throw new ConfigError(`config file not found: ${file ?? 'gateway.config.ts'}`)
  return { cwd: dirname(path), configFile: basename(path, extname(path)), path }
}

async function evaluate(load: () => Promise<{ config: unknown }>, source: string): Promise<unknown> {
  try {
    return (await load()).config
  } catch (error) {
    if (ConfigError.is(error)) throw new ConfigError(`${source}: ${error.message}`)
    throw new ConfigError(`${source}: ${(error as Error)?.message?.split('\n')[0] ?? String(error)}`)
  }
}

/** Loads and validates the config file (default `./gateway.config.ts`). */
export async function loadGatewayConfig(file?: string, cwd?: string): Promise<ResolvedConfig> {
  const where = locate(file, cwd)
  const source = basename(where.path)
  const config = await evaluate(() => loadConfig({
    cwd: where.cwd, configFile: where.configFile, dotenv: true, rcFile: false, globalRc: false, packageJson: false,
    jitiOptions: { alias: SLUICE_ALIASES },
  }), source)
  return resolveConfig(config, source)
}

/**
 * Watches the config file and calls `onChange` with each new valid config; an invalid one is reported through
 * `onError` and the running config stays.
 */
export async function watchGatewayConfig(file: string | undefined, onChange: (config: ResolvedConfig) => void | Promise<void>, onError: (error: Error) => void) {
  const where = locate(file)
  const source = basename(where.path)
  const watcher = await watchConfig({
    cwd: where.cwd, configFile: where.configFile, dotenv: true, rcFile: false, globalRc: false, packageJson: false,
    jitiOptions: { moduleCache: false, alias: SLUICE_ALIASES },
    async onUpdate({ newConfig }) {
      try {
        await onChange(resolveConfig(newConfig.config, source))
      } catch (error) {
        onError(error as Error)
      }
    },
  })
  return { config: resolveConfig(watcher.config, source), unwatch: () => watcher.unwatch() }
}
