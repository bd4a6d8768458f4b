/** The `sluice` command: start, dev (hot reload), check, and the subcommands plugins add. */
import { defineCommand, runMain, type CommandDef } from 'citty'
import { createConsola } from 'consola'
import { loadGatewayConfig, watchGatewayConfig, type ResolvedConfig } from './config.ts'
import { startServer, type RunningServer } from './server.ts'
import { ConfigError } from './errors.ts'
import { PluginHost } from './host.ts'
import cluster from 'node:cluster'
import { H3 } from 'h3'
import { createStorage, type Storage } from 'unstorage'
import { createLogger } from './logger.ts'
import { createGatewayStorage, DEFAULT_STORAGE } from './storage.ts'
import { realClock } from './clock.ts'
import { createAdminMount } from './admin.ts'
import { superviseWorkers, workerCount } from './cluster.ts'
import { answerMetricsRequests } from './workers.ts'

// The CLI's own output is always shown (the default level is `warn` under NODE_ENV=test).
const consola = createConsola({ level: 3 })

const configArg = { type: 'string', alias: 'c', description: 'path to the config file (default ./gateway.config.ts)' } as const
const serverArgs = {
  config: configArg,
  port: { type: 'string', alias: 'p', description: 'port to listen on (overrides server.port)' },
  host: { type: 'string', description: 'address to bind (overrides server.host)' },
} as const

/** Prints a config problem as the one line it is, and exits. */
function fail(error: unknown): never {
  if (ConfigError.is(error)) consola.error(error.message)
  else consola.error((error as Error)?.message ?? error)
  process.exit(1)
}

function withOverrides(config: ResolvedConfig, args: { port?: string; host?: string }): ResolvedConfig {
  const server = { ...config.server }
  if (args.port !== undefined) {
    const port = Number(args.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(new ConfigError(`--port: "${args.port}" is not a port number`))
    server.port = port
  }
  if (args.host) server.host = args.host
  return { ...config, server }
}

function onSignals(server: RunningServer, extra?: () => void) {
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return process.exit(1) // a second signal: stop now
    stopping = true
    if (!cluster.isWorker) consola.info(`${signal}: finishing in-flight requests…`)
    extra?.()
    await server.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  // A worker is stopped by its primary (SIGTERM); the terminal's Ctrl-C reaches the primary too.
  process.on('SIGINT', () => { if (!cluster.isWorker) void stop('SIGINT') })
}

const start = defineCommand({
  meta: { name: 'start', description: 'run the gateway' },
  args: {
    ...serverArgs,
    workers: { type: 'string', alias: 'w', description: 'worker processes on one port: a number, or auto (one per core)' },
  },
  async run({ args }) {
    const workers = args.workers === undefined ? 1 : (() => { try { return workerCount(args.workers) } catch (error) { return fail(error) } })()
    const config = withOverrides(await loadGatewayConfig(args.config).catch(fail), args)
    if (workers > 1 && cluster.isPrimary) return startPrimary(config, workers)
    if (cluster.isWorker) answerMetricsRequests()
    const server = await startServer(config).catch((error) => {
      // A worker that cannot start tells its primary why, so the primary stops instead of restarting it forever.
      if (cluster.isWorker) process.send?.({ type: 'sluice:failed', message: ConfigError.is(error) ? error.message : (error as Error)?.message ?? String(error) })
      return fail(error)
    })
    if (cluster.isWorker) process.send?.({ type: 'sluice:listening', url: server.url })
    else consola.success(`Sluice listening on ${server.url}`)
    onSignals(server)
  },
})

/** The primary of `--workers N`: supervises the workers and says where they listen once the first one does. */
function startPrimary(config: ResolvedConfig, workers: number): void {
  let announced = false
  const supervisor = superviseWorkers(workers, createLogger(config.logLevel ?? 'info'))
  cluster.on('message', (_worker, message: any) => {
    if (message?.type === 'sluice:failed') {
      consola.error(message.message)
      supervisor.stop(1)
    } else if (message?.type === 'sluice:listening' && !announced) {
      announced = true
      consola.success(`Sluice listening on ${message.url} (${workers} workers)`)
    }
  })
}

const dev = defineCommand({
  meta: { name: 'dev', description: 'run the gateway and reload it when the config changes' },
  args: serverArgs,
  async run({ args }) {
    let server: RunningServer | undefined
    const watcher = await watchGatewayConfig(
      args.config,
      async (config) => {
        await server?.reload(withOverrides(config, args))
        consola.success('config reloaded')
      },
      (error) => consola.error(`config not reloaded: ${error.message}`),
    ).catch(fail)
    server = await startServer(withOverrides(watcher.config, args)).catch(fail)
    consola.success(`Sluice (dev) listening on ${server.url}, watching the config`)
    onSignals(server, () => void watcher.unwatch())
  },
})

const check = defineCommand({
  meta: { name: 'check', description: 'validate the config and list the plugins and their hooks (no side effects)' },
  args: {
    config: configArg,
    connect: { type: 'boolean', description: 'also open the storage and run each plugin\'s start-up (databases, Redis) and report what fails' },
  },
  async run({ args }) {
    const config = await loadGatewayConfig(args.config).catch(fail)
    const host = await bootHost(config, { connect: !!args.connect }).catch(fail)
    consola.success(`config is valid: ${host.plugins.length} plugin(s), listening on ${config.server.host}:${config.server.port}`)
    for (const plugin of host.plugins) {
      const hooks = [...(host.registered.get(plugin.name) ?? [])]
      consola.log(`  ${plugin.name.padEnd(20)} hooks: ${hooks.length ? hooks.join(', ') : '-'}${plugin.options ? `  options: ${JSON.stringify(plugin.options)}` : ''}`)
    }
    for (const provider of host.providers.values()) consola.log(`  provider ${provider.name} (${provider.formats.join(', ')})`)
    let failed = false
    // A service may say something about itself here (live config: the overlay in force over the file).
    const serviceLines = () => {
      for (const service of host.services.values()) {
        const lines = (service as { checkLines?: () => string[] })?.checkLines?.()
        for (const line of lines ?? []) consola.log(`  ${line}`)
      }
    }
    if (args.connect) {
      const storage = await probeStorage(host.options.storage)
      consola.log(`  storage (${config.storage?.driver ?? DEFAULT_STORAGE.driver}): ${storage ?? 'ok'}`)
      for (const { plugin, error } of await host.probe()) {
        consola.log(`  start-up of ${plugin}: ${error ? `FAILED: ${error}` : 'ok'}`)
        failed ||= !!error
      }
      failed ||= !!storage
      serviceLines()
    } else {
      serviceLines()
      consola.log('  nothing was opened or connected (no databases, no Redis, no files); run `sluice check --connect` to check them')
    }
    await host.close()
    if (failed) process.exitCode = 1
  },
})

/** Undefined when the storage answers a read and a write, else what went wrong. */
async function probeStorage(storage: Storage): Promise<string | undefined> {
  try {
    await storage.setItem('sluice:check', Date.now())
    await storage.getItem('sluice:check')
    await storage.removeItem('sluice:check')
    return undefined
  } catch (error) {
    return `FAILED: ${(error as Error)?.message ?? error}`
  }
}

/**
 * Plugins set up without serving, for `check` and plugin subcommands; `close` frees what they opened. Without
 * `connect` the storage is in memory and no plugin's start-up runs: nothing on disk or the network is touched.
 */
async function bootHost(config: ResolvedConfig, { connect }: { connect: boolean }): Promise<PluginHost & { close(): Promise<void> }> {
  const logger = createLogger(config.logLevel ?? 'warn')
  const app = new H3()
  const storage = connect ? await createGatewayStorage(config.storage ?? DEFAULT_STORAGE) : createStorage()
  const host = new PluginHost(config.plugins, { logger, storage, app, clock: realClock, mountAdmin: createAdminMount(app, config.adminKey, logger).mount })
  await host.setup()
  return Object.assign(host, {
    async close() {
      await host.stop()
      await storage.dispose() // open connections (Redis) would keep the process alive
    },
  })
}

/** Subcommands contributed by plugins (`sluice keys create`), built from the config named by --config. */
async function pluginCommands(argv: string[]): Promise<{ commands: Record<string, CommandDef<any>>; close?: () => Promise<void> }> {
  const name = argv[0]
  if (!name || ['start', 'dev', 'check'].includes(name) || name.startsWith('-')) return { commands: {} }
  const at = argv.findIndex((a) => a === '--config' || a === '-c')
  const config = await loadGatewayConfig(at >= 0 ? argv[at + 1] : undefined).catch(() => undefined)
  if (!config) return { commands: {} }
  const commands: Record<string, CommandDef<any>> = {}
  const host = await bootHost(config, { connect: true })
  await host.start()
  for (const plugin of host.plugins) if (plugin.cli) Object.assign(commands, plugin.cli(host.contextFor(plugin)))
  return { commands, close: () => host.close() }
}

export async function main(argv = process.argv.slice(2)) {
  const plugins = await pluginCommands(argv)
  const main = defineCommand({
    meta: { name: 'sluice', description: 'a programmable LLM gateway' },
    subCommands: { start, dev, check, ...plugins.commands },
  })
  try {
    await runMain(main, { rawArgs: argv })
  } finally {
    await plugins.close?.()
  }
}
