// Two workers on one port: the echo provider, metrics, and fs storage (shared by the workers) in a per-run folder.
import { defineGatewayConfig } from 'sluice'
import { echo } from 'sluice/plugins/providers'
import { governor, metrics } from 'sluice/plugins'

const dir = process.env.SLUICE_WORKERS_DIR!

export default defineGatewayConfig({
  server: { port: 0, shutdownTimeout: 2000 },
  storage: { driver: 'fs', base: `${dir}/kv` },
  plugins: [
    echo(),
    metrics(),
    ...(process.env.SLUICE_WORKERS_MEMORY_GOVERNOR ? [governor({ perKey: { rpm: 10 } })] : []),
  ],
})
