// responses() in front of real HTTP upstreams: the mock OpenAI's /v1/responses (passed through: the `openai`
// provider speaks chat only, so a Responses-speaking provider is declared here with upstreamProvider) and the mock
// Anthropic (translated). Storage is memory, or a shared Redis when RESPONSES_REDIS_URL is set (replica tests).
import { defineGatewayConfig, upstreamProvider } from 'sluice'
import { anthropic } from 'sluice/plugins/providers'
import { responses } from 'sluice/plugins'

const env = process.env

const openaiResponses = upstreamProvider({
  name: 'oai',
  options: { baseURL: env.RESPONSES_MOCK_OPENAI_URL },
  baseURL: env.RESPONSES_MOCK_OPENAI_URL!,
  headers: { authorization: 'Bearer sk-test-responses-upstream-0000' },
  formats: ['openai-responses'],
  route: () => ({ path: '/responses' }),
})

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: env.RESPONSES_REDIS_URL
    ? { driver: 'redis', url: env.RESPONSES_REDIS_URL, base: env.RESPONSES_REDIS_PREFIX! }
    : { driver: 'memory' },
  logLevel: 'warn',
  plugins: [
    openaiResponses,
    anthropic({ apiKey: 'test-anthropic-key', baseURL: env.RESPONSES_MOCK_ANTHROPIC_URL! }),
    responses(),
  ],
})
