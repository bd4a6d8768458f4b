// Minimal pipeline: one OpenAI-compatible provider in front of the bench mock, nothing else.
import { defineGatewayConfig } from 'sluice'
import { openaiCompatible } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins: [openaiCompatible({ name: 'mock', baseURL: process.env.BENCH_UPSTREAM_URL! })],
})
