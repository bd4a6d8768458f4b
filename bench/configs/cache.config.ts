// The cache bench's gateway: one OpenAI-compatible provider in front of the bench mock, and cache() on memory
// (or Redis with BENCH_CACHE_REDIS_URL), bounded far above what the bench stores.
import { defineGatewayConfig } from 'sluice'
import { cache } from 'sluice/plugins'
import { openaiCompatible } from 'sluice/plugins/providers'

const redis = process.env.BENCH_CACHE_REDIS_URL

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins: [
    openaiCompatible({ name: 'mock', baseURL: process.env.BENCH_UPSTREAM_URL! }),
    cache({
      store: redis ? { redis, prefix: `sluice-bench:cache:${process.pid}` } : 'memory',
      maxEntries: 1_000_000,
      maxBytes: 2 * 1024 * 1024 * 1024,
    }),
  ],
})
