// Gateway replicas sharing one response cache on Redis (a per-run key prefix), in front of the mock OpenAI upstream.
import { defineGatewayConfig } from 'sluice'
import { openai } from 'sluice/plugins/providers'
import { cache } from 'sluice/plugins'

const env = process.env

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins: [
    openai({ apiKey: 'sk-test-upstream-cache-000000', baseURL: env.MOCK_OPENAI_URL! }),
    cache({ store: { redis: env.SLUICE_CACHE_REDIS_URL!, prefix: env.SLUICE_CACHE_PREFIX! }, ttl: 300 }),
  ],
})
