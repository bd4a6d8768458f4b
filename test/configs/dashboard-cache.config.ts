// The dashboard with the response cache in front of the echo provider (priced, so hits save money).
import { defineGatewayConfig } from 'sluice'
import { cache, dashboard, usage } from 'sluice/plugins'
import { echo } from 'sluice/plugins/providers'

const dir = process.env.DASHBOARD_TEST_DIR!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  adminKey: process.env.DASHBOARD_ADMIN_KEY,
  logLevel: 'silent',
  plugins: [
    echo(),
    usage({ sqlite: { file: `${dir}/usage.db` }, spillFile: `${dir}/spill.jsonl`, flushIntervalMs: 20, prices: { 'echo/*': { input: 2.5, output: 10 } } }),
    cache(),
    dashboard(),
  ],
})
