// The dashboard with live(): two echo providers and a router alias to move between them.
import { defineGatewayConfig } from 'sluice'
import { live, router } from 'sluice/plugins'
import { echo } from 'sluice/plugins/providers'
import { dashboard } from '../../plugins/dashboard/index.ts'

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  adminKey: process.env.DASHBOARD_ADMIN_KEY,
  logLevel: 'silent',
  plugins: [echo(), echo({ name: 'alt' }), router({ models: { chat: ['echo/m'] } }), live(), dashboard()],
})
