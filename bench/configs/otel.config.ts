// The otel bench's gateway: one OpenAI-compatible provider in front of the bench mock and metrics(); with
// BENCH_OTEL_ENDPOINT set, otel() exporting there (a live collector, a closed port, or one that never answers).
import { defineGatewayConfig } from 'sluice'
import { metrics, otel } from 'sluice/plugins'
import { openaiCompatible } from 'sluice/plugins/providers'

const endpoint = process.env.BENCH_OTEL_ENDPOINT

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'error',
  plugins: [
    openaiCompatible({ name: 'mock', baseURL: process.env.BENCH_UPSTREAM_URL! }),
    metrics({ defaultMetrics: false }),
    ...(endpoint ? [otel({ endpoint })] : []),
  ],
})
