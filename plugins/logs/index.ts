/**
 * `logs()`: the request log. One entry per request — what its record says (model, target, key, status, tokens,
 * cost, latency), every upstream attempt with its target, status and timing, the trace id — and, when content
 * capture is on for it (`content`, `rules`), the request's messages and the answer read from the neutral view,
 * redacted and capped. Entries go through the same batched, spill-on-outage writer as usage records, into SQLite
 * (default) or Postgres, with free-text search (FTS5 / tsvector) and retention by age and size in the background.
 *
 * Admin routes: `GET /admin/requests` (filters key, model, provider, status, from, to, q; limit + cursor) and
 * `GET /admin/requests/:id`. The dashboard's Requests view reads them.
 *
 * A request costs this plugin a `call` layer per attempt and, only when its content may be kept, an observer of
 * the response's deltas; the entry itself is built in the `record` hook, after the response has ended.
 */
import { BatchWriter, definePlugin, presentedKey } from '../../core/index.ts'
import type { PluginContext, RequestContext, RequestRecord, SluicePlugin } from '../../core/index.ts'
import { mountLogsAdmin } from './admin.ts'
import { noteAttempt, stateOf, STATE, type LogState } from './attempts.ts'
import { ResponseCollector, requestContent } from './capture.ts'
import { entryOf, type LogEntry } from './entry.ts'
import { displayOptions, resolveLogsOptions, type LogsOptions } from './options.ts'
import { createPostgresLogStore } from './postgres-store.ts'
import { redactor } from './redact.ts'
import { Retention } from './retention.ts'
import { ContentSampler, type Subject } from './sampling.ts'
import { createSqliteLogStore } from './sqlite-store.ts'
import type { LogStore } from './store.ts'

export type { LogsOptions }
export type { LogEntry, LogSummary, AttemptEntry } from './entry.ts'
export type { LogQuery, LogPage, LogStore } from './store.ts'
export { createSqliteLogStore } from './sqlite-store.ts'
export { createPostgresLogStore } from './postgres-store.ts'

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/
const TRACE_ID = /^[0-9a-f]{32}$/

/**
 * The W3C trace id of the request: the one a tracing plugin noted (`ctx.state.otel.traceId`), else the caller's
 * (`traceparent`), which a tracing plugin joins.
 */
function traceIdOf(ctx: RequestContext): string | undefined {
  const noted = ctx.state.otel?.traceId
  if (typeof noted === 'string' && TRACE_ID.test(noted)) return noted
  const match = TRACEPARENT.exec(ctx.request.headers.get('traceparent')?.trim().toLowerCase() ?? '')
  return match && match[1] !== '0'.repeat(32) ? match[1] : undefined
}

function subjectOf(ctx: RequestContext, record?: RequestRecord): Subject {
  const target = ctx.target
  return {
    model: record?.requestedModel ?? ctx.model,
    target: target ? `${target.provider}/${target.model}` : undefined,
    provider: target?.provider,
    principalId: ctx.principal?.id,
    principalName: ctx.principal?.name,
  }
}

function drawOf(state: LogState, gw: PluginContext): number {
  return (state.draw ??= gw.clock.random())
}

export const logs = definePlugin((input: LogsOptions = {}): SluicePlugin => {
  const options = resolveLogsOptions(input)
  const sampler = new ContentSampler(options.content, options.rules)

  return {
    name: 'logs',
    // Innermost `call` hook: it sees each attempt the router and retry make (see attempts.ts).
    order: 100,
    options: displayOptions(options),
    setup(gw: PluginContext) {
      const store: LogStore = options.postgres
        ? createPostgresLogStore({ ...options.postgres, logger: gw.logger })
        : createSqliteLogStore({ file: options.sqliteFile })
      const writer = new BatchWriter<LogEntry>({
        store,
        name: 'logs',
        label: 'Request log',
        spillFile: gw.workers.count > 1 ? options.spillFile.replace(/(\.\w+)?$/, `.worker${gw.workers.index}$1`) : options.spillFile,
        queueSize: options.queueSize,
        batchSize: options.batchSize,
        flushIntervalMs: options.flushIntervalMs,
        clock: gw.clock,
        logger: gw.logger,
      })
      const retention = new Retention(store, options.retention, options.retention.intervalMs, () => gw.clock.now(), gw.logger)
      gw.provide('requestLog', { stats: () => writer.stats(), flush: () => writer.flush(), prune: () => retention.run() })
      mountLogsAdmin(gw, store)
      gw.onStart(async () => {
        await writer.start()
        retention.start()
      })

      return {
        hooks: {
          call: noteAttempt,
          stream(ctx: RequestContext) {
            if (sampler.never) return
            const state = stateOf(ctx)
            if (!sampler.mayCapture(subjectOf(ctx), drawOf(state, gw))) return
            const collector = new ResponseCollector(options.maxContentChars)
            state.collector = collector
            return { observe: collector.observe }
          },
          record(record: RequestRecord, ctx: RequestContext) {
            const state = ctx.state[STATE] as LogState | undefined
            const redact = redactor(options.redact, presentedKey(ctx.request))
            let content: LogEntry['content']
            if (!sampler.never && sampler.captures(subjectOf(ctx, record), record.status, record.outcome, drawOf(stateOf(ctx), gw))) {
              const request = requestContent(ctx, redact, options.maxContentChars)
              const response = state?.collector?.content(redact, options.maxContentChars)
              content = {}
              if (request) content.request = request.request
              if (response) content.response = response.response
              if (request?.truncated || response?.truncated) content.truncated = true
            }
            const skipped = ctx.state.router?.skipped
            const attemptList = (state?.attempts ?? []).map((attempt) => (attempt.error ? { ...attempt, error: redact(attempt.error) } : attempt))
            writer.add(entryOf(record, {
              attemptList,
              skipped: Array.isArray(skipped) && skipped.length > 0 ? skipped.slice(0, 32) : undefined,
              traceId: traceIdOf(ctx),
              content,
            }, redact))
          },
        },
        async teardown() {
          await retention.stop()
          await writer.close()
        },
      }
    },
  }
})

declare module '../../core/index.ts' {
  interface Services {
    /** The request log's writer counters, a flush, and a retention pass now. (logs plugin) */
    requestLog: {
      stats(): Record<string, number>
      flush(): Promise<void>
      prune(): Promise<{ byAge: number; bySize: number } | undefined>
    }
  }
}
