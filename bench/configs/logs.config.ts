// The request log bench's gateway: one OpenAI-compatible provider in front of the bench mock, and logs() as
// BENCH_LOGS_MODE says: `off` (no plugin), `usage` (usage() instead, for comparison), `meta` (entries without
// content), `content` (every request's content).
import { defineGatewayConfig } from 'sluice'
import { logs, usage } from 'sluice/plugins'
import { openaiCompatible } from 'sluice/plugins/providers'

const mode = process.env.BENCH_LOGS_MODE ?? 'off'
const dir = process.env.BENCH_LOGS_DIR!

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins: [
    openaiCompatible({ name: 'mock', baseURL: process.env.BENCH_UPSTREAM_URL! }),
    ...(mode === 'usage' ? [usage({ sqlite: { file: `${dir}/usage.db` }, spillFile: `${dir}/usage-spill.jsonl` })] : []),
    ...(mode === 'off' || mode === 'usage' ? [] : [logs({ content: mode === 'content', sqlite: { file: `${dir}/logs-${mode}.db` }, spillFile: `${dir}/logs-${mode}-spill.jsonl` })]),
  ],
})
