/**
 * Where finished spans go: a bounded queue in front of the SDK's BatchSpanProcessor, which sends batches to the
 * collector with the official OTLP/HTTP (JSON) exporter. Nothing on a request's path waits for the collector: a
 * span that finds the queue full is dropped and counted, an export that fails or times out loses its batch and
 * counts it, and shutdown waits a bounded time for the rest.
 *
 * Why a gate of our own in front of the BatchSpanProcessor: it bounds its queue too, but keeps the count of what
 * it dropped private. Counting spans in (here) and out (the exporter wrapper) keeps the same bound with numbers
 * we can show.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import type { Context } from '@opentelemetry/api'
import type { Span } from '@opentelemetry/sdk-trace-base'
import { tracesUrl, type OtelSettings } from './options.ts'
import { ATTR_SERVICE_NAME } from './semconv.ts'
import type { OtelStats } from './stats.ts'

/** Counts the spans that leave the queue, and what became of them. */
class CountingExporter implements SpanExporter {
  constructor(readonly inner: SpanExporter, readonly stats: OtelStats) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const count = spans.length
    this.stats.sending(count)
    let settled = false
    const finish = (result: ExportResult) => {
      if (settled) return
      settled = true
      this.stats.sent(count, result.code === ExportResultCode.SUCCESS, result.error?.message)
      done(result)
    }
    try {
      this.inner.export(spans, finish)
    } catch (error) {
      finish({ code: ExportResultCode.FAILED, error: error as Error })
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}

/** Admits a finished span only while fewer than `max` wait for export; counts the rest as dropped. */
class BoundedProcessor implements SpanProcessor {
  constructor(readonly inner: SpanProcessor, readonly max: number, readonly stats: OtelStats) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext)
  }

  onEnd(span: ReadableSpan): void {
    if (this.stats.queued >= this.max) {
      this.stats.dropped('queue_full', 1)
      return
    }
    this.stats.enqueued()
    this.inner.onEnd(span)
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush()
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }
}

export function createTracerProvider(settings: OtelSettings, stats: OtelStats, exporter?: SpanExporter): BasicTracerProvider {
  const otlp = exporter ?? new OTLPTraceExporter({
    url: tracesUrl(settings.endpoint),
    headers: settings.headers,
    timeoutMillis: settings.exportTimeoutMs,
    // One export in flight is what the batch processor does anyway; a few more only if exports time out.
    concurrencyLimit: 4,
  })
  const batches = new BatchSpanProcessor(new CountingExporter(otlp, stats), {
    maxQueueSize: settings.maxQueueSize,
    maxExportBatchSize: settings.maxExportBatchSize,
    scheduledDelayMillis: settings.scheduledDelayMs,
    exportTimeoutMillis: settings.exportTimeoutMs,
  })
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) over the default name; the option over both.
  let resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'sluice' }))
    .merge(detectResources({ detectors: [envDetector] }))
  if (settings.serviceName) resource = resource.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }))
  return new BasicTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRate) }),
    spanProcessors: [new BoundedProcessor(batches, settings.maxQueueSize, stats)],
  })
}

/**
 * Flushes what is queued and closes the exporter, waiting at most `timeoutMs`; whatever has not reached the
 * collector by then is counted as dropped.
 */
export async function shutdownTracerProvider(provider: BasicTracerProvider, stats: OtelStats, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs) })
  await Promise.race([provider.shutdown().catch(() => undefined), timedOut])
  clearTimeout(timer)
  stats.abandon()
}
