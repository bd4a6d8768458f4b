/** A gateway started from a dashboard test config, with its own temp dir for the usage database. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { loadGatewayConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { startServer } from '../../core/server.ts'
import type { TestGateway } from '../helpers/gateway.ts'

export const ADMIN_KEY = 'dashboard-admin-key-for-tests-0001'
/** The config key declared in dashboard-full.config.ts. */
export const CLIENT_KEY = 'sk-dashboard-test-client-key-0001'

export interface DashboardGateway extends TestGateway {
  dir: string
  admin(path: string, init?: RequestInit & { key?: string }): Promise<Response>
  client(apiKey?: string): OpenAI
}

/** `port` 0 picks a free port; a fixed one lets a test restart the gateway where the browser expects it. */
export async function startDashboardGateway(config = 'dashboard-full.config.ts', port = 0): Promise<DashboardGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-'))
  Object.assign(process.env, { DASHBOARD_TEST_DIR: dir, DASHBOARD_ADMIN_KEY: ADMIN_KEY })
  const resolved = await loadGatewayConfig(join(import.meta.dirname, '..', 'configs', config))
  resolved.server.port = port
  const server = await startServer(resolved, { logger: createLogger('silent') })
  const gateway: TestGateway = { url: server.url, server, close: () => server.close() }
  return {
    ...gateway,
    dir,
    admin(path, init = {}) {
      const { key = ADMIN_KEY, ...rest } = init
      return fetch(`${gateway.url}${path}`, { ...rest, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(rest.headers as object) } })
    },
    client(apiKey = CLIENT_KEY) {
      return new OpenAI({ apiKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
    },
    async close() {
      await gateway.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
