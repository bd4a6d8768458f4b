/**
 * Prometheus metrics shared by every plugin through prom-client's default registry. Get-or-create, so a
 * hot reload (which builds plugins again) reuses the metric instead of failing on a duplicate name.
 */
import client from 'prom-client'

export const registry = client.register

export function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  return (registry.getSingleMetric(name) as client.Counter<L> | undefined) ?? new client.Counter({ name, help, labelNames })
}

export function gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  return (registry.getSingleMetric(name) as client.Gauge<L> | undefined) ?? new client.Gauge({ name, help, labelNames })
}

export function histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]) {
  return (registry.getSingleMetric(name) as client.Histogram<L> | undefined) ?? new client.Histogram({ name, help, labelNames, buckets })
}

/**
 * Caps the distinct values of a metric label. Model names come from clients, so an unbounded label would let
 * any caller grow the metrics registry (and every scrape) without limit; past the cap new values read `other`.
 */
export function labelGuard(max: number): (value: string) => string {
  const seen = new Set<string>()
  return (value) => {
    if (seen.has(value)) return value
    if (seen.size >= max) return 'other'
    seen.add(value)
    return value
  }
}
