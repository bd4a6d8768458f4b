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
import { HOOK_NAMES, type GatewayConfig, type SluicePlugin } from './types.ts'

export const DEFAULT_PORT = 8787
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000

const sizeSchema = z.union([
  z.number().int().positive(),
  z.string().refine((s) => { try { return parseSize(s) > 0 } catch { return false } }, 'expected a size such as "4mb" or a number of bytes'),
])

// z.function() would replace each function with a validating wrapper (a cost on every hook call): check the type only.
const fn = z.custom<(...args: any[]) => unknown>((value) => typeof value === 'function', 'expected a function')
const hookSchema = z.strictObject(Object.fromEntries(HOOK_NAMES.map((name) => [name, fn.optional()])))

const pluginSchema = z.object({
  name: z.string().min(1),
  order: z.number().optional(),
  enforce: z.enum(['pre', 'post']).optional(),
  hooks: hookSchema.optional(),
  setup: fn.optional(),
  cli: fn.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
})

const configSchema = z.strictObject({
  server: z.strictObject({
    port: z.number().int().min(0).max(65535).optional(),
    host: z.string().min(1).optional(),
    bodyLimit: sizeSchema.optional(),
    shutdownTimeout: z.number().int().nonnegative().optional(),
  }).optional(),
  storage: z.looseObject({ driver: z.string().min(1) }).optional(),
  plugins: z.array(pluginSchema).optional(),
  adminKey: z.string().min(16, 'the admin key must be at least 16 characters').optional(),
  logLevel: z.enum(['silent', 'error', 'warn', 'info', 'debug']).optional(),
})

export interface ResolvedConfig extends GatewayConfig {
  server: { port: number; host: string; bodyLimit: number; shutdownTimeout: number }
  plugins: SluicePlugin[]
}

/** Validates a config object (from a file or built in code) and fills defaults. */
export function resolveConfig(input: unknown, source = 'config'): ResolvedConfig {
  if (typeof input !== 'object' || input === null) throw new ConfigError(`${source}: must export a config object (use defineGatewayConfig)`)
  const result = configSchema.safeParse(input, { reportInput: true })
  if (!result.success) throw new ConfigError(`${source}: ${describeIssue(result.error.issues[0]!).replace(/^option/, 'key').replace(/^unknown option/, 'unknown key')}`)
  const config = result.data as GatewayConfig
  const plugins = (config.plugins ?? []) as SluicePlugin[]
  const seen = new Set<string>()
  for (const plugin of plugins) {
    if (seen.has(plugin.name)) throw new ConfigError(`${source}: two plugins are named "${plugin.name}" (give the second instance another name)`)
    seen.add(plugin.name)
  }
  return {
    ...config,
    server: {
      port: config.server?.port ?? DEFAULT_PORT,
      host: config.server?.host ?? DEFAULT_HOST,
      bodyLimit: config.server?.bodyLimit === undefined ? DEFAULT_BODY_LIMIT : parseSize(config.server.bodyLimit),
      shutdownTimeout: config.server?.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT,
    },
    plugins,
  }
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
  const config = await evaluate(() => loadConfig({ cwd: where.cwd, configFile: where.configFile, dotenv: true, rcFile: false, globalRc: false, packageJson: false }), source)
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
    jitiOptions: { moduleCache: false },
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
