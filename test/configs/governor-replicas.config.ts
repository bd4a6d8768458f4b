// Gateway replicas sharing their governor buckets on one Redis (a per-run key prefix), in front of the echo
// provider. Config keys from the environment: `hundred` gets the fleet's per-key default (100 requests per
// minute), `thirty`, `fifty` and `warm` carry their own limits (ctx.principal.limits, set by the keys plugin).
import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'
import { governor, keys } from 'sluice/plugins'

const env = process.env

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'memory' },
  // `info` shows the governor's Redis down/up lines (and one line per request, which slows a hammering).
  logLevel: env.SLUICE_GOV_LOG_LEVEL === 'info' ? 'info' : 'warn',
  plugins: [
    echo(),
    keys({
      keys: [
        { name: 'hundred', key: env.SLUICE_GOV_KEY_HUNDRED! },
        { name: 'thirty', key: env.SLUICE_GOV_KEY_THIRTY!, limits: { rpm: 30 } },
        { name: 'fifty', key: env.SLUICE_GOV_KEY_FIFTY!, limits: { rpm: 50 } },
        // For warming the request path up without touching the buckets under test.
        { name: 'warm', key: env.SLUICE_GOV_KEY_WARM!, limits: { rpm: 1_000_000_000 } },
      ],
    }),
    governor({
      store: { redis: env.SLUICE_GOV_REDIS_URL!, prefix: env.SLUICE_GOV_PREFIX! },
      failMode: env.SLUICE_GOV_FAIL_MODE === 'open' ? 'open' : 'closed',
      perKey: { rpm: 100 },
    }),
  ],
})
