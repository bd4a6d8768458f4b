// Virtual keys end to end: fs storage and a SQLite usage store in a per-run directory, the echo provider and a
// provider named `openai` in front of the mock upstream. Everything variable comes from the test's environment.
import { defineGatewayConfig } from 'sluice'
import { echo, openai } from 'sluice/plugins/providers'
import { keys, usage } from 'sluice/plugins'

const dir = process.env.SLUICE_KEYS_TEST_DIR!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  adminKey: process.env.SLUICE_KEYS_ADMIN_KEY,
  storage: { driver: 'fs', base: `${dir}/kv` },
  plugins: [
    echo(),
    openai({ apiKey: 'sk-test-upstream-keys-000000', baseURL: process.env.MOCK_OPENAI_URL ?? 'http://127.0.0.1:9/v1' }),
    keys(),
    usage({
      sqlite: { file: `${dir}/usage.db` },
      spillFile: `${dir}/usage-spill.jsonl`,
      // One cent per token, so budget arithmetic in the tests reads in whole cents.
      prices: { 'openai/gpt-4o-mini': { input: 10_000, output: 10_000 } },
    }),
  ],
})
