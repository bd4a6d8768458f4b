/**
 * `dashboard()`: a single-page operator console at `/dashboard` (overview, live feed, usage, keys, targets,
 * config). The page and its assets are public and hold no data; every data call goes to the admin API with the
 * admin key the operator typed. Assets are read from public/ once at setup and served from memory.
 *
 * Besides serving files it folds finished records into in-memory buckets for latency percentiles and per-target
 * numbers (see stats.ts). With a `recorder` service (usage plugin) it reads records from its feed, after usage
 * estimates and re-pricing; it subscribes from its `record` hook, which runs before the usage plugin's
 * (`order: -60` < -50), so the first record is not missed. Without a recorder the hook observes records itself.
 */
import { join } from 'node:path'
import { definePlugin } from '../../core/plugin.ts'
import type { PluginContext, RequestRecord, SluicePlugin } from '../../core/types.ts'
import { mountDashboardApi } from './api.ts'
import { assetFor, loadAssets, serveAsset } from './assets.ts'
import { resolveDashboardOptions, type DashboardOptions } from './options.ts'
import { LiveStats } from './stats.ts'

export type { DashboardOptions }

const PUBLIC_DIR = join(import.meta.dirname, 'public')

export const dashboard = definePlugin((input: DashboardOptions = {}): SluicePlugin => {
  const options = resolveDashboardOptions(input)
  let gw: PluginContext | undefined
  let stats: LiveStats | undefined
  let unsubscribe: (() => void) | undefined

  /** Reads records from the recorder once it exists (services are looked up at request time, not in setup). */
  function subscribed(): boolean {
    if (unsubscribe) return true
    const recorder = gw?.inject('recorder')
    if (!recorder || !stats) return false
    const target = stats
    unsubscribe = recorder.subscribe((record) => target.observe(record))
    return true
  }

  return {
    name: 'dashboard',
    order: -60,
    options: { ...options },
    hooks: {
      record(record: RequestRecord) {
        if (!stats || subscribed()) return
        stats.observe(record)
      },
    },
    async setup(context) {
      gw = context
      stats = new LiveStats(context.clock.now(), options.maxTargets)
      const assets = await loadAssets(PUBLIC_DIR)
      if (!assets.has('index.html')) throw new Error(`dashboard: ${PUBLIC_DIR}/index.html is missing`)
      const serve = (event: { url: URL; req: Request }) => serveAsset(assetFor(assets, options.path, event.url.pathname), event.req.headers)
      context.app.get(options.path, serve)
      context.app.get(`${options.path}/**`, serve)
      mountDashboardApi(context, stats, { shown: { ...options }, beforeEach: () => { subscribed() } })
      return () => {
        unsubscribe?.()
        unsubscribe = undefined
        gw = undefined
      }
    },
  }
})
