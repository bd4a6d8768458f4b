// Minimal pipeline: one OpenAI-compatible provider in front of the bench mock, nothing else.
// BENCH_UPSTREAM_CONNECTIONS raises the per-upstream socket cap for the many-stream scenarios.
// BENCH_STORAGE_DIR switches storage from memory to fs there: `--workers N` refuses the memory driver (the minimal
// pipeline never touches storage per request, so the two are the same work).
import { defineGatewayConfig } from 'sluice'
import { openaiCompatible } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: process.env.BENCH_STORAGE_DIR ? { driver: 'fs', base: process.env.BENCH_STORAGE_DIR } : { driver: 'memory' },
  logLevel: 'warn',
  plugins: [openaiCompatible({
    name: 'mock',
    baseURL: process.env.BENCH_UPSTREAM_URL!,
    ...(process.env.BENCH_UPSTREAM_CONNECTIONS && { connections: Number(process.env.BENCH_UPSTREAM_CONNECTIONS) }),
  })],
})
