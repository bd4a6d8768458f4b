// The request log in the dashboard: two mock OpenAI upstreams behind a fallback alias, usage for prices, logs()
// with content into a temp dir, the dashboard. URLs and the dir come from the test through the environment.
import { defineGatewayConfig } from 'sluice'
import { logs, router, usage } from 'sluice/plugins'
import { openaiCompatible } from 'sluice/plugins/providers'
import { dashboard } from '../../plugins/dashboard/index.ts'

const dir = process.env.DASHBOARD_TEST_DIR!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  adminKey: process.env.DASHBOARD_ADMIN_KEY,
  logLevel: 'silent',
  plugins: [
    openaiCompatible({ name: 'a', baseURL: process.env.LOGS_MOCK_A_URL! }),
    openaiCompatible({ name: 'b', baseURL: process.env.LOGS_MOCK_B_URL! }),
    router({ models: { chain: ['a/chain-alpha', 'b/chain-beta'] } }),
    usage({ sqlite: { file: `${dir}/usage.db` }, spillFile: `${dir}/usage-spill.jsonl`, flushIntervalMs: 20, prices: { 'a/*': { input: 2.5, output: 10 }, 'b/*': { input: 2.5, output: 10 } } }),
    logs({ content: true, sqlite: { file: `${dir}/logs.db` }, spillFile: `${dir}/logs-spill.jsonl`, flushIntervalMs: 20 }),
    dashboard(),
  ],
})
