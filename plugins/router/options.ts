/** Router options: aliases and their targets, validated at load and normalised into `Target`s. */
import { parseOptions, z } from '../../core/index.ts'
import { ConfigError } from '../../core/index.ts'
import type { Clock, Target } from '../../core/index.ts'
import { failureMatcherSchema, type FailureMatcher } from '../../core/index.ts'
import { timeoutsSchema } from '../../core/index.ts'

const clockSchema = z.custom<Clock>(
  (value) => typeof value === 'object' && value !== null && ['now', 'random', 'sleep'].every((fn) => typeof (value as any)[fn] === 'function'),
  'expected a Clock ({ now, random, sleep })',
)

export const STRATEGIES = ['fallback', 'weighted', 'round-robin', 'least-inflight', 'latency'] as const
export type Strategy = (typeof STRATEGIES)[number]

export const DEFAULT_FALLBACK_ON: FailureMatcher[] = [429, '5xx', 'timeout', 'connection']

const modelRef = z.string().regex(/^[^/\s]+\/\S+$/, 'expected "provider/model"')


const targetSchema = z.union([
  modelRef,
  z.strictObject({
    model: modelRef,
    weight: z.number().positive().optional(),
    /** Extra upstream body fields for this target (temperature, ...). */
    params: z.record(z.string(), z.unknown()).optional(),
    timeouts: timeoutsSchema.optional(),
  }),
])

const aliasSchema = z.union([
  modelRef,
  z.array(targetSchema).min(1),
  z.strictObject({
    targets: z.array(targetSchema).min(1),
    strategy: z.enum(STRATEGIES).optional(),
    fallbackOn: z.array(failureMatcherSchema).optional(),
  }),
])

const optionsSchema = z.strictObject({
  /** Public model name → targets. An array is an ordered fallback list. */
  models: z.record(z.string().min(1), aliasSchema),
  /** Strategy of aliases that name none. */
  strategy: z.enum(STRATEGIES).default('fallback'),
  /** What makes the router try the next target: statuses, `'4xx'`, `'5xx'`, `'timeout'`, `'connection'`. */
  fallbackOn: z.array(failureMatcherSchema).default(DEFAULT_FALLBACK_ON),
  latency: z.strictObject({
    /** Weight of the newest sample in the moving average. */
    alpha: z.number().gt(0).max(1).default(0.3),
    /** Share of requests sent to a random target first, so a slow target's average can recover. */
    explore: z.number().min(0).max(1).default(0.05),
  }).prefault({}),
  clock: clockSchema.optional(),
})

export type RouterOptions = z.input<typeof optionsSchema>

export interface WeightedTarget {
  target: Target
  key: string
  weight: number
}

export interface Alias {
  name: string
  targets: WeightedTarget[]
  strategy: Strategy
  fallbackOn: FailureMatcher[]
}

export interface RouterSettings {
  aliases: Map<string, Alias>
  fallbackOn: FailureMatcher[]
  latency: { alpha: number; explore: number }
  clock?: Clock
}

export function parseModelRef(ref: string): { provider: string; model: string } {
  const slash = ref.indexOf('/')
  return { provider: ref.slice(0, slash), model: ref.slice(slash + 1) }
}

function toWeightedTarget(spec: z.output<typeof targetSchema>): WeightedTarget {
  const entry: { model: string; weight?: number; params?: Record<string, unknown>; timeouts?: Target['timeouts'] } = typeof spec === 'string' ? { model: spec } : spec
  const target: Target = parseModelRef(entry.model)
  if (entry.params) target.params = entry.params
  if (entry.timeouts) target.timeouts = entry.timeouts
  return { target, key: `${target.provider}/${target.model}`, weight: entry.weight ?? 1 }
}

export function parseRouterOptions(input: unknown): RouterSettings {
  const options = parseOptions('router', optionsSchema, input)
  const aliases = new Map<string, Alias>()
  for (const [name, spec] of Object.entries(options.models)) {
    const { targets, strategy, fallbackOn } = typeof spec === 'string' ? { targets: [spec] }
      : Array.isArray(spec) ? { targets: spec, strategy: undefined, fallbackOn: undefined }
      : spec
    const normalised = targets.map(toWeightedTarget)
    const seen = new Set<string>()
    for (const { key } of normalised) {
      if (seen.has(key)) throw new ConfigError(`router: option "models.${name}": target "${key}" is listed twice`)
      seen.add(key)
    }
    aliases.set(name, { name, targets: normalised, strategy: strategy ?? options.strategy, fallbackOn: fallbackOn ?? options.fallbackOn })
  }
  return { aliases, fallbackOn: options.fallbackOn, latency: options.latency, clock: options.clock }
}
