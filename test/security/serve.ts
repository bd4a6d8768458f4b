/** A real gateway server (a port, Node's HTTP writer and all) from a config object, for the security suites. */
import { resolveConfig, startServer, createLogger } from '../../core/index.ts'
import type { GatewayConfig, RunningServer } from '../../core/index.ts'

export async function serve(config: GatewayConfig): Promise<RunningServer> {
  const resolved = resolveConfig({ storage: { driver: 'memory' }, ...config, server: { ...config.server, port: 0 } })
  return startServer(resolved, { logger: createLogger('silent') })
}

/** A plain upstream for misbehaviour the mocks do not script: `handler` answers every request. */
export async function rawUpstream(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: string) => void) {
  const { createServer } = await import('node:http')
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => handler(req, res, body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as import('node:net').AddressInfo
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}
