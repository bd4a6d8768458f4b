/**
 * `metrics()`: `GET /metrics` in Prometheus text from prom-client's default registry (the one every plugin's
 * metrics live in), optionally behind a bearer token.
 *
 * Request metrics come from finished records. When a `recorder` service exists (the usage plugin), records are
 * read from its feed, after usage estimates and re-pricing are folded in; this plugin's own `record` hook only
 * subscribes, and it runs first (`enforce: 'pre'`) so it is subscribed before the recorder sees the first record.
 * Without a recorder the `record` hook observes each record itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import client from 'prom-client'
import type { H3Event } from 'h3'
import { presentedKey } from '../../core/admin.ts'
import { registry } from '../../core/metrics.ts'
import { parseOptions, z } from '../../core/options.ts'
import { definePlugin } from '../../core/plugin.ts'
import type { PluginContext, RequestRecord, SluicePlugin } from '../../core/types.ts'
import { collectServiceGauges, observeRecord } from './instruments.ts'

const optionsSchema = z.strictObject({
  /** Require `Authorization: Bearer <token>` on the metrics route. Read it from the environment. */
  token: z.string().min(1).optional(),
  path: z.string().regex(/^\/[\w\-/.]*$/, 'must be a path like /metrics').optional(),
  /** Process metrics (CPU, memory, event loop lag) from prom-client. */
  defaultMetrics: z.boolean().optional(),
})

export type MetricsPluginOptions = z.input<typeof optionsSchema>

const digest = (value: string) => createHash('sha256').update(value).digest()

export const metrics = definePlugin((input: MetricsPluginOptions = {}): SluicePlugin => {
  const options = parseOptions('metrics', optionsSchema, input)
  const path = options.path ?? '/metrics'
  const expected = options.token ? digest(options.token) : undefined
  let gw: PluginContext | undefined
  let unsubscribe: (() => void) | undefined

  function authorized(headers: Headers): boolean {
    if (!expected) return true
    const given = presentedKey(headers)
    return !!given && timingSafeEqual(digest(given), expected)
  }

  async function scrape(event: H3Event): Promise<Response> {
    if (!authorized(event.req.headers)) {
      return new Response('a valid metrics token is required\n', { status: 401, headers: { 'www-authenticate': 'Bearer' } })
    }
    if (gw) collectServiceGauges(gw.inject('breakers'), gw.inject('recorder'))
    return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } })
  }

  return {
    name: 'metrics',
    enforce: 'pre',
    options: { ...options, token: options.token ? '[redacted]' : undefined },
    hooks: {
      record(record: RequestRecord) {
        const recorder = gw?.inject('recorder')
        if (!recorder) return observeRecord(record)
        unsubscribe ??= recorder.subscribe(observeRecord)
      },
    },
    setup(context) {
      gw = context
      if (options.defaultMetrics !== false && !registry.getSingleMetric('process_cpu_user_seconds_total')) {
        client.collectDefaultMetrics({ register: registry })
      }
      context.app.get(path, scrape)
      return () => {
        unsubscribe?.()
        unsubscribe = undefined
        gw = undefined
      }
    },
  }
})
