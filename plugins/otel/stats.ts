/**
 * What the exporter counts: Prometheus series on the shared registry (served by `metrics()` at `/metrics`) and
 * the same numbers for this process as the `otel` service.
 */
import { counter, gauge } from '../../core/index.ts'

export type DropReason = 'queue_full' | 'export_failed' | 'shutdown'

const exportedTotal = counter('sluice_otel_spans_exported_total', 'Spans the collector accepted')
const droppedTotal = counter('sluice_otel_spans_dropped_total', 'Spans lost: queue full, export failed or timed out, or still queued at shutdown', ['reason'])
const queueGauge = gauge('sluice_otel_queue_size', 'Finished spans waiting for export')

export interface OtelStatsSnapshot {
  exported: number
  dropped: Record<DropReason, number>
  queued: number
  since: number
}

export class OtelStats {
  queued = 0
  #exported = 0
  #dropped: Record<DropReason, number> = { queue_full: 0, export_failed: 0, shutdown: 0 }

  constructor(readonly since: number, readonly onDrop: (reason: DropReason, count: number) => void = () => {}) {}

  enqueued(): void {
    this.queued++
    queueGauge.set(this.queued)
  }

  dequeued(count: number): void {
    this.queued = Math.max(0, this.queued - count)
    queueGauge.set(this.queued)
  }

  exported(count: number): void {
    this.#exported += count
    exportedTotal.inc(count)
  }

  dropped(reason: DropReason, count: number): void {
    if (count <= 0) return
    if (reason === 'shutdown') this.dequeued(count)
    this.#dropped[reason] += count
    droppedTotal.inc({ reason }, count)
    this.onDrop(reason, count)
  }

  snapshot(): OtelStatsSnapshot {
    return { exported: this.#exported, dropped: { ...this.#dropped }, queued: this.queued, since: this.since }
  }
}
