// The adversarial fuzzer's gateway: keys, a limiter, the router, usage on SQLite and two providers (the built-in
// echo, and an OpenAI-compatible one in front of the mock upstream), logging everything it logs.
import { defineGatewayConfig } from 'sluice'
import { echo, openaiCompatible } from 'sluice/plugins/providers'
import { governor, keys, router, usage } from 'sluice/plugins'

const dir = process.env.FUZZ_DIR!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  adminKey: process.env.FUZZ_ADMIN_KEY,
  storage: { driver: 'memory' },
  logLevel: 'debug',
  plugins: [
    echo(),
    openaiCompatible({ name: 'up', baseURL: process.env.MOCK_OPENAI_URL!, apiKey: process.env.FUZZ_UPSTREAM_KEY }),
    router({ models: { fast: ['echo/echo-1', 'up/gpt-4o-mini'] } }),
    keys({ keys: [{ name: 'fuzzer', key: process.env.FUZZ_KEY! }] }),
    governor({ perKey: { rpm: 1_000_000, tpm: 1_000_000_000 } }),
    usage({ sqlite: { file: `${dir}/usage.db` }, spillFile: `${dir}/spill.jsonl`, flushIntervalMs: 20 }),
  ],
})
