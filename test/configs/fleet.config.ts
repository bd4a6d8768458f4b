// One replica of the fleet test (test/fleet): every replica runs this file. Shared state lives under a per-run
// prefix on Redis (storage, keys' invalidation channel, governor buckets) and a per-run schema on Postgres
// (usage records), so runs never touch each other's data.
import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'
import { dashboard, governor, keys, live, metrics, router, usage } from 'sluice/plugins'

const env = process.env
const redis = env.REDIS_URL!
const prefix = env.SLUICE_FLEET_PREFIX!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 10_000 },
  adminKey: env.SLUICE_FLEET_ADMIN_KEY,
  storage: { driver: 'redis', base: `${prefix}:storage`, url: redis },
  logLevel: 'warn',
  plugins: [
    // Streams one word every 10 ms: a request is still in flight when its replica is told to stop.
    echo({ delayMs: 10 }),
    echo({ name: 'alt' }),
    router({ models: { 'fleet-model': ['echo/echo-1'] } }),
    // Live config: snapshots in the run's Postgres schema, announced on the run's Redis channel.
    live({ postgres: { url: env.DATABASE_URL, schema: env.SLUICE_FLEET_SCHEMA }, redis, channel: `${prefix}:live` }),
    keys({
      redis,
      channel: `${prefix}:keys`,
      keys: [
        { name: 'load', key: env.SLUICE_FLEET_KEY_LOAD!, limits: { rpm: 1_000_000 } },
        { name: 'limited', key: env.SLUICE_FLEET_KEY_LIMITED!, limits: { rpm: Number(env.SLUICE_FLEET_RPM ?? 30) } },
      ],
    }),
    governor({ store: { redis, prefix: `${prefix}:gov` } }),
    usage({ postgres: { url: env.DATABASE_URL, schema: env.SLUICE_FLEET_SCHEMA }, spillFile: env.SLUICE_FLEET_SPILL }),
    // Each replica is named by SLUICE_REPLICA (r1, r2, r3): the `replica` label of /metrics and the dashboard's rows.
    metrics(),
    dashboard({ fleet: { redis, prefix: `${prefix}:dashboard`, heartbeatMs: 500 } }),
  ],
})
