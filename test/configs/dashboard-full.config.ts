// The dashboard with everything it reads: keys, usage (SQLite in a temp dir from the test), breaker, echo.
import { defineGatewayConfig } from 'sluice'
import { breaker, keys, usage } from 'sluice/plugins'
import { echo } from 'sluice/plugins/providers'
import { dashboard } from '../../plugins/dashboard/index.ts'

const dir = process.env.DASHBOARD_TEST_DIR!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  adminKey: process.env.DASHBOARD_ADMIN_KEY,
  logLevel: 'silent',
  plugins: [
    echo(),
    keys({ cacheTtlMs: 0, keys: [{ name: 'tester', key: 'sk-dashboard-test-client-key-0001' }] }),
    usage({ sqlite: { file: `${dir}/usage.db` }, spillFile: `${dir}/spill.jsonl`, flushIntervalMs: 20, prices: { 'echo/*': { input: 2.5, output: 10 } } }),
    breaker(),
    dashboard(),
  ],
})
