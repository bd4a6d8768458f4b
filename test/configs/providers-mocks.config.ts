// Every provider kind in front of the mock upstreams (their URLs come from the test through the environment).
import { defineGatewayConfig } from 'sluice'
import { anthropic, azure, gemini, groq, ollama, openai } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  plugins: [
    openai({ apiKey: 'sk-test-openai-upstream', baseURL: process.env.MOCK_OPENAI_URL!, models: ['gpt-4o', 'gpt-4o-mini'] }),
    anthropic({ apiKey: 'test-anthropic-key', baseURL: process.env.MOCK_ANTHROPIC_URL! }),
    gemini({ apiKey: 'test-gemini-key', baseURL: process.env.MOCK_GEMINI_URL! }),
    azure({
      baseURL: process.env.MOCK_AZURE_URL!, apiKey: 'azure-test-key', apiVersion: '2024-10-21',
      deployments: { 'gpt-4o': 'gpt4o-prod', 'text-embedding-3-small': 'embed-prod' },
    }),
    groq({ apiKey: 'gsk-test-groq', baseURL: process.env.MOCK_OPENAI_URL!, models: ['llama-3.3-70b-versatile'] }),
    // A provider that is never reached: its port refuses connections.
    ollama({ baseURL: 'http://127.0.0.1:9/v1', timeouts: { connect: 500 } }),
  ],
})
