// Minimal pipeline: one OpenAI-compatible provider in front of the bench mock, nothing else.
// BENCH_UPSTREAM_CONNECTIONS raises the per-upstream socket cap (default 256) for the 1,000-stream scenario.
import { defineGatewayConfig } from 'sluice'
import { openaiCompatible } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins: [openaiCompatible({
    name: 'mock',
    baseURL: process.env.BENCH_UPSTREAM_URL!,
    ...(process.env.BENCH_UPSTREAM_CONNECTIONS && { connections: Number(process.env.BENCH_UPSTREAM_CONNECTIONS) }),
  })],
})
