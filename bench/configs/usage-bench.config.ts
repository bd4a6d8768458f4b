// The recording benchmark's gateway (bench/recording.ts): one OpenAI-compatible provider in front of the bench
// mock, and recording chosen by USAGE_BENCH_RECORDING — `off`, `sqlite` (USAGE_BENCH_SQLITE_FILE) or `postgres`
// (DATABASE_URL, schema USAGE_BENCH_PG_SCHEMA). Everything else is the same, so the runs differ only by recording.
import { defineGatewayConfig } from 'sluice'
import { usage } from 'sluice/plugins'
import { openaiCompatible } from 'sluice/plugins/providers'
import type { SluicePlugin } from '../../core/types.ts'

const mode = process.env.USAGE_BENCH_RECORDING ?? 'off'
const plugins: SluicePlugin[] = [openaiCompatible({ name: 'mock', baseURL: process.env.BENCH_UPSTREAM_URL!, connections: 4096 })]
// The mock's model has no list price: give it one so every record is priced as a real one would be.
const prices = { 'mock/*': { input: 0.15, output: 0.6 } }
if (mode === 'sqlite') {
  plugins.push(usage({ sqlite: { file: process.env.USAGE_BENCH_SQLITE_FILE! }, spillFile: process.env.USAGE_BENCH_SPILL_FILE!, prices }))
} else if (mode === 'postgres') {
  plugins.push(usage({ store: 'postgres', postgres: { url: process.env.DATABASE_URL!, schema: process.env.USAGE_BENCH_PG_SCHEMA! }, spillFile: process.env.USAGE_BENCH_SPILL_FILE!, prices }))
} else if (mode !== 'off') {
  throw new Error(`USAGE_BENCH_RECORDING must be off, sqlite or postgres (got "${mode}")`)
}

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins,
})
