// A gateway in front of the mock OpenAI upstream (its URL comes from the test through the environment).
import { defineGatewayConfig } from 'sluice'
import { echo, openai, openaiCompatible } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: 0, bodyLimit: '64kb' },
  storage: { driver: 'memory' },
  plugins: [
    echo(),
    openai({ apiKey: 'sk-test-upstream-secret-000000', baseURL: process.env.MOCK_OPENAI_URL! }),
    openaiCompatible({ name: 'local', baseURL: process.env.MOCK_OPENAI_URL!, timeouts: { firstByte: 300, idle: 300 } }),
    openaiCompatible({ name: 'nowhere', baseURL: 'http://127.0.0.1:9/v1', timeouts: { connect: 500 } }),
  ],
})
