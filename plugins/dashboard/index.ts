/**
 * `dashboard()`: a single-page operator console at `/dashboard` (overview, live feed, usage, keys, targets,
 * config). The page and its assets are public and hold no data; every data call goes to the admin API with the
 * admin key the operator typed. Assets are read from public/ once at setup and served from memory.
 *
 * Besides serving files it folds finished records (its `record` hook) into in-memory buckets for latency
 * percentiles and per-target numbers (see stats.ts).
 */
import { join } from 'node:path'
import { definePlugin, replicaId } from '../../core/index.ts'
import type { PluginContext, RequestContext, RequestRecord, SluicePlugin } from '../../core/index.ts'
import { mountDashboardApi } from './api.ts'
import { Fleet, mountFleetApi } from './fleet.ts'
import { assetFor, loadAssets, serveAsset } from './assets.ts'
import { resolveDashboardOptions, type DashboardOptions } from './options.ts'
import { LiveStats } from './stats.ts'

export type { DashboardOptions }

const PUBLIC_DIR = join(import.meta.dirname, 'public')

export const dashboard = definePlugin((input: DashboardOptions = {}): SluicePlugin => {
  const options = resolveDashboardOptions(input)

  return {
    name: 'dashboard',
    options: { ...options, ...(options.fleet && { fleet: { ...options.fleet, redis: '(set)' } }) },
    async setup(gw: PluginContext) {
      const stats = new LiveStats(gw.clock.now(), options.maxTargets)
      // The page's own files, read once (no network, no database: `sluice check` may run this).
      const assets = await loadAssets(PUBLIC_DIR)
      if (!assets.has('index.html')) throw new Error(`dashboard: ${PUBLIC_DIR}/index.html is missing`)
      const serve = (event: { url: URL; req: Request }) => serveAsset(assetFor(assets, options.path, event.url.pathname), event.req.headers)
      gw.app.get(options.path, serve)
      gw.app.get(`${options.path}/**`, serve)
      const { fleet: fleetSettings, ...shown } = options
      mountDashboardApi(gw, stats, { shown: { ...shown, ...(fleetSettings && { fleet: { ...fleetSettings, redis: '(set)' } }) } })
      if (!fleetSettings) {
        return {
          // Every record hook sees the final record (usage estimated, cost priced): no ordering needed.
          hooks: { record: (record: RequestRecord) => stats.observe(record) },
        }
      }
      // Fleet: also count requests in flight (from routing to their record) and share records and heartbeats.
      let inflight = 0
      const name = fleetSettings.replica ?? replicaId()
      const replica = gw.workers.count > 1 ? `${name}#${gw.workers.index}` : name
      const fleet = new Fleet(fleetSettings, replica, stats, gw.logger, () => ({ inflight, breakers: gw.inject('breakers')?.states() ?? [] }))
      gw.onStart(() => fleet.start())
      mountFleetApi(gw, fleet)
      return {
        hooks: {
          route(ctx: RequestContext) {
            if (ctx.state.dashboard) return
            ctx.state.dashboard = true
            inflight++
          },
          record(record: RequestRecord, ctx: RequestContext) {
            if (ctx.state.dashboard) inflight--
            stats.observe(record)
            fleet.local(record)
          },
        },
        teardown: () => fleet.close(),
      }
    },
  }
})
