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
  inFlight: number
  since: number
}

export class OtelStats {
  /** Finished spans waiting in the queue. */
  queued = 0
  /** Spans handed to the exporter whose export has not finished. */
  inFlight = 0
  #exported = 0
  #dropped: Record<DropReason, number> = { queue_full: 0, export_failed: 0, shutdown: 0 }
  /** Set at shutdown once the rest is counted as lost: late export results no longer count. */
  #closed = false

  constructor(readonly since: number, readonly onDrop: (reason: DropReason, count: number, cause?: string) => void = () => {}) {}

  enqueued(): void {
    this.queued++
    queueGauge.set(this.queued)
  }

  /** A batch left the queue for the exporter. */
  sending(count: number): void {
    this.queued = Math.max(0, this.queued - count)
    this.inFlight += count
    queueGauge.set(this.queued)
  }

  /** A batch's export finished. */
  sent(count: number, ok: boolean, cause?: string): void {
    if (this.#closed) return
    this.inFlight = Math.max(0, this.inFlight - count)
    if (ok) {
      this.#exported += count
      exportedTotal.inc(count)
    } else {
      this.dropped('export_failed', count, cause)
    }
  }

  dropped(reason: DropReason, count: number, cause?: string): void {
    if (count <= 0) return
    this.#dropped[reason] += count
    droppedTotal.inc({ reason }, count)
    this.onDrop(reason, count, cause)
  }

  /** Shutdown gave up waiting: what is still queued or being sent is lost. */
  abandon(): void {
    if (this.#closed) return
    this.#closed = true
    this.dropped('shutdown', this.queued + this.inFlight)
    this.queued = 0
    this.inFlight = 0
    queueGauge.set(0)
  }

  snapshot(): OtelStatsSnapshot {
    return { exported: this.#exported, dropped: { ...this.#dropped }, queued: this.queued, inFlight: this.inFlight, since: this.since }
  }
}
