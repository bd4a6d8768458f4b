// Recording end to end: OpenAI and Anthropic providers in front of the mock upstreams, usage into a temp SQLite
// file, metrics, and the admin API. Paths and URLs come from the test through the environment.
import { defineGatewayConfig } from 'sluice'
import { metrics, usage } from 'sluice/plugins'
import { anthropic, openai } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  adminKey: process.env.USAGE_E2E_ADMIN_KEY,
  plugins: [
    openai({ apiKey: 'sk-test-upstream-secret-000000', baseURL: process.env.MOCK_OPENAI_URL!, timeouts: { firstByte: 400, idle: 400 } }),
    anthropic({ apiKey: 'test-anthropic-key', baseURL: process.env.MOCK_ANTHROPIC_URL! }),
    usage({ sqlite: { file: process.env.USAGE_SQLITE_FILE! }, spillFile: process.env.USAGE_SPILL_FILE!, flushIntervalMs: 20 }),
    metrics(),
  ],
})
