// bench/governor-throughput.ts: one OpenAI-compatible provider in front of the bench mock, with the governor
// off, on the memory store or on Redis (SLUICE_GOV_BENCH_STORE = off | memory | redis). Limits sit far above
// anything the bench can send: the governor does all its work (a key rule with requests, tokens and a
// concurrency slot, plus a model rule) and never refuses.
import { defineGatewayConfig } from 'sluice'
import { openaiCompatible } from 'sluice/plugins/providers'
import { governor } from 'sluice/plugins'
import type { SluicePlugin } from '../../core/types.ts'

const env = process.env
const mode = env.SLUICE_GOV_BENCH_STORE ?? 'off'
const huge = { rps: 10_000_000, tpm: 100_000_000_000, maxConcurrent: 1_000_000 }

const plugins: SluicePlugin[] = [
  openaiCompatible({
    name: 'mock',
    baseURL: env.BENCH_UPSTREAM_URL!,
    ...(env.BENCH_UPSTREAM_CONNECTIONS && { connections: Number(env.BENCH_UPSTREAM_CONNECTIONS) }),
  }),
]
if (mode === 'memory' || mode === 'redis') {
  plugins.push(
    governor({
      ...(mode === 'redis' && { store: { redis: env.SLUICE_GOV_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: env.SLUICE_GOV_BENCH_PREFIX } }),
      perKey: huge,
      rules: [{ scope: 'model', rps: huge.rps }],
    }),
  )
} else if (mode !== 'off') {
  throw new Error(`SLUICE_GOV_BENCH_STORE must be off, memory or redis, not ${JSON.stringify(mode)}`)
}

export default defineGatewayConfig({
  server: { port: Number(env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins,
})
