// Gateways sharing their keys through Redis: storage on Redis under a per-run prefix, and the keys plugin's
// pub/sub invalidation on a per-run channel. The cache TTL is long on purpose: a change reaching another
// process quickly can only have come through pub/sub.
import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'
import { keys } from 'sluice/plugins'

const url = process.env.REDIS_URL!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  adminKey: process.env.SLUICE_KEYS_ADMIN_KEY,
  storage: { driver: 'redis', base: process.env.SLUICE_KEYS_REDIS_PREFIX!, url },
  plugins: [
    echo(),
    keys({ redis: url, channel: process.env.SLUICE_KEYS_CHANNEL, cacheTtlMs: 60_000 }),
  ],
})
