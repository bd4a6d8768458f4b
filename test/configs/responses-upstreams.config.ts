// responses() in front of real HTTP upstreams: the mock OpenAI's /v1/responses (openai() passes Responses clients
// through) and the mock Anthropic (translated). Storage is memory, or a shared Redis when RESPONSES_REDIS_URL is set
// (replica tests).
import { defineGatewayConfig } from 'sluice'
import { anthropic, openai } from 'sluice/plugins/providers'
import { responses } from 'sluice/plugins'

const env = process.env

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: env.RESPONSES_REDIS_URL
    ? { driver: 'redis', url: env.RESPONSES_REDIS_URL, base: env.RESPONSES_REDIS_PREFIX! }
    : { driver: 'memory' },
  logLevel: 'warn',
  plugins: [
    openai({ name: 'oai', apiKey: 'sk-test-responses-upstream-0000', baseURL: env.RESPONSES_MOCK_OPENAI_URL! }),
    anthropic({ apiKey: 'test-anthropic-key', baseURL: env.RESPONSES_MOCK_ANTHROPIC_URL! }),
    responses(),
  ],
})
