// The dashboard alone (no usage, no keys, no breaker): it must say what is missing instead of failing.
import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'
import { dashboard } from '../../plugins/dashboard/index.ts'

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  adminKey: process.env.DASHBOARD_ADMIN_KEY,
  logLevel: 'silent',
  plugins: [echo(), dashboard()],
})
