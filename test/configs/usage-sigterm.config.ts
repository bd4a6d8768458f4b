// A gateway for the SIGTERM load run: the OpenAI provider in front of the mock upstream, usage into SQLite (or
// Postgres when USAGE_PG_URL is set, in the schema USAGE_PG_SCHEMA). Paths, URLs, the flush interval and the journal
// (USAGE_JOURNAL=off) come from the test.
import { defineGatewayConfig } from 'sluice'
import { usage } from 'sluice/plugins'
import { openai } from 'sluice/plugins/providers'

const pgUrl = process.env.USAGE_PG_URL
const store = pgUrl
  ? { store: 'postgres' as const, postgres: { url: pgUrl, schema: process.env.USAGE_PG_SCHEMA! } }
  : { sqlite: { file: process.env.USAGE_SQLITE_FILE! } }

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 20_000 },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins: [
    openai({ apiKey: 'sk-test-upstream-secret-000000', baseURL: process.env.MOCK_OPENAI_URL! }),
    usage({
      ...store, spillFile: process.env.USAGE_SPILL_FILE!,
      flushIntervalMs: Number(process.env.USAGE_FLUSH_MS ?? 25),
      journal: process.env.USAGE_JOURNAL !== 'off',
    }),
  ],
})
