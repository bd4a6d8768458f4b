// bedrock() and vertex() with nothing but cloud credentials in the environment (AWS_* and
// GOOGLE_APPLICATION_CREDENTIALS); only the endpoints point at the mocks, whose URLs come from the test.
import { defineGatewayConfig } from 'sluice'
import { bedrock, vertex } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  plugins: [
    bedrock({ baseURL: process.env.MOCK_BEDROCK_URL! }),
    vertex({ baseURL: process.env.MOCK_VERTEX_URL!, tokenURL: process.env.MOCK_GOOGLE_TOKEN_URL! }),
  ],
})
