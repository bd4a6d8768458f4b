/**
 * `metrics()`: `GET /metrics` in Prometheus text from prom-client's default registry (the one every plugin's
 * metrics live in), optionally behind a bearer token.
 *
 * Request metrics come from finished records, through this plugin's `record` hook.
 */
import client from 'prom-client'
import type { H3Event } from 'h3'
import { clusterMetrics, constantTimeEqual, definePlugin, metricsRegistry as registry, parseOptions, presentedKey, replicaId, z } from '../../core/index.ts'
import type { PluginContext, RequestRecord, SluicePlugin } from '../../core/index.ts'
import { collectServiceGauges, observeRecord } from './instruments.ts'

const optionsSchema = z.strictObject({
  /** Require `Authorization: Bearer <token>` on the metrics route. Read it from the environment. */
  token: z.string().min(1).optional(),
  path: z.string().regex(/^\/[\w\-/.]*$/, 'must be a path like /metrics').optional(),
  /** Process metrics (CPU, memory, event loop lag) from prom-client. */
  defaultMetrics: z.boolean().optional(),
  /**
   * A `replica` label on every metric: a name; `true` for `SLUICE_REPLICA`, else the host name; `false` for none.
   * Default: on when `SLUICE_REPLICA` is set (a fleet), else off (sample lines stay as they were).
   */
  replica: z.union([z.string().regex(/^[\w.:@-]{1,100}$/, 'use letters, digits and "_.:@-"'), z.boolean()]).optional(),
})

export type MetricsPluginOptions = z.input<typeof optionsSchema>

export const metrics = definePlugin((input: MetricsPluginOptions = {}): SluicePlugin => {
  const options = parseOptions('metrics', optionsSchema, input)
  const path = options.path ?? '/metrics'

  return {
    name: 'metrics',
    options: { ...options, token: options.token ? '[redacted]' : undefined },
    hooks: {
      // Every record hook sees the final record (usage estimated, cost priced): no ordering needed.
      record: (record: RequestRecord) => observeRecord(record),
    },
    setup(gw: PluginContext) {
      // Each replica is scraped on its own; the label tells them apart once Prometheus holds them all.
      const replica = typeof options.replica === 'string' ? options.replica
        : options.replica === true || (options.replica === undefined && process.env.SLUICE_REPLICA) ? replicaId() : undefined
      registry.setDefaultLabels(replica ? { replica } : {})
      if (options.defaultMetrics !== false && !registry.getSingleMetric('process_cpu_user_seconds_total')) {
        client.collectDefaultMetrics({ register: registry })
      }
      gw.app.get(path, async (event: H3Event) => {
        if (options.token && !authorized(event.req.headers, options.token)) {
          return new Response('a valid metrics token is required\n', { status: 401, headers: { 'www-authenticate': 'Bearer' } })
        }
        collectServiceGauges(gw.inject('breakers'), gw.inject('recorder'))
        // With --workers, every worker's metrics, summed by the primary; else this process's.
        const text = await (clusterMetrics() ?? registry.metrics())
        return new Response(text, { headers: { 'content-type': registry.contentType } })
      })
    },
  }
})

function authorized(headers: Headers, token: string): boolean {
  const given = presentedKey(headers)
  return !!given && constantTimeEqual(given, token)
}
