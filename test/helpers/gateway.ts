/** Starts a real gateway server from a config file, on a free port, for end-to-end tests. */
import { resolve } from 'node:path'
import { loadGatewayConfig } from '../../core/config.ts'
import { startServer, type RunningServer } from '../../core/server.ts'
import { createLogger } from '../../core/logger.ts'

export interface TestGateway {
  url: string
  server: RunningServer
  close(): Promise<void>
}

export async function startGatewayFromFile(file: string, env: Record<string, string> = {}): Promise<TestGateway> {
  Object.assign(process.env, env)
  const config = await loadGatewayConfig(resolve(import.meta.dirname, '..', 'configs', file))
  config.server.port = 0
  const server = await startServer(config, { logger: createLogger('silent') })
  return { url: server.url, server, close: () => server.close() }
}

/** Waits until `check` holds, polling every few ms (for effects that happen after a response ended). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}
