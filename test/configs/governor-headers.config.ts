// One gateway with an in-memory governor, for what clients see: the x-ratelimit-* headers on admitted
// responses, and 429 bodies in the shape of the API called. Requests are anonymous (no keys plugin), so every
// `key` rule draws from the shared `anonymous` bucket; each test uses its own model to get fresh buckets.
import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'
import { governor } from 'sluice/plugins'

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  plugins: [
    // Streams pause 20 ms between words, so a test can hold a request in flight (its tokens still reserved).
    echo({ delayMs: 20 }),
    governor({
      rules: [
        // Requests: 3 per minute per model, all at once.
        { scope: 'model', rpm: 3 },
        // Tokens: 2000 per minute per model; a request reserves its prompt estimate plus max_tokens.
        { scope: 'model', tpm: 2000 },
      ],
    }),
  ],
})
