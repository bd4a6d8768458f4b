/** Strategies decide the order of a request's plan; the fallback hook then walks it. */
import type { Target } from '../../core/index.ts'
import type { Alias, WeightedTarget } from './options.ts'
import type { TargetStats } from './stats.ts'

export interface OrderInput {
  alias: Alias
  /** The alias's targets whose provider is registered, in config order. */
  targets: WeightedTarget[]
  stats: TargetStats
  random: () => number
  /** Per-alias counter for round-robin. */
  turn: number
  explore: number
}

export function orderTargets(input: OrderInput): Target[] {
  const { targets } = input
  if (targets.length === 1) return [targets[0]!.target]
  switch (input.alias.strategy) {
    case 'fallback': return targets.map((t) => t.target)
    case 'round-robin': return rotate(targets, input.turn % targets.length)
    case 'weighted': return weightedOrder(targets, input.random)
    case 'least-inflight': return sortBy(targets, (t) => input.stats.inflight(t.key))
    case 'latency': {
      if (input.explore > 0 && input.random() < input.explore) return rotate(targets, Math.floor(input.random() * targets.length))
      // A target with no sample yet goes first, so it gets measured.
      return sortBy(targets, (t) => input.stats.latency(t.key) ?? -1)
    }
  }
}

function rotate(targets: WeightedTarget[], start: number): Target[] {
  const out: Target[] = []
  for (let i = 0; i < targets.length; i++) out.push(targets[(start + i) % targets.length]!.target)
  return out
}

/** Stable: ties keep config order. */
function sortBy(targets: WeightedTarget[], score: (t: WeightedTarget) => number): Target[] {
  return targets
    .map((t, index) => ({ t, index, score: score(t) }))
    .sort((a, b) => a.score - b.score || a.index - b.index)
    .map(({ t }) => t.target)
}

/** Weighted sampling without replacement: the first target is picked by weight, then the next among the rest, ... */
function weightedOrder(targets: WeightedTarget[], random: () => number): Target[] {
  const pool = targets.slice()
  const out: Target[] = []
  let total = pool.reduce((sum, t) => sum + t.weight, 0)
  while (pool.length > 1) {
    let pick = random() * total
    let i = 0
    while (i < pool.length - 1 && (pick -= pool[i]!.weight) >= 0) i++
    const [chosen] = pool.splice(i, 1)
    total -= chosen!.weight
    out.push(chosen!.target)
  }
  out.push(pool[0]!.target)
  return out
}
