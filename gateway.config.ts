// The default Sluice config: the built-in echo provider answers with no API key; real providers switch on
// when their key is in the environment (or in .env).
import { defineGatewayConfig } from 'sluice'
import { echo, openai } from 'sluice/plugins/providers'

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 8787), host: process.env.HOST ?? '127.0.0.1', bodyLimit: '4mb' },
  storage: { driver: 'fs', base: '.sluice/kv' },
  adminKey: process.env.SLUICE_ADMIN_KEY,
  plugins: [
    echo(),
    ...(process.env.OPENAI_API_KEY ? [openai({ apiKey: process.env.OPENAI_API_KEY })] : []),
  ],
})
