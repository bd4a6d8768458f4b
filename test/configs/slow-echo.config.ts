import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 5000, keepAliveTimeout: 2000 },
  storage: { driver: 'memory' },
  plugins: [echo({ name: process.env.SLUICE_TEST_ECHO_NAME ?? 'echo', delayMs: 20 })],
})
