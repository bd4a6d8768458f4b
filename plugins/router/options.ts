/** Router options: aliases and their targets, validated at load and normalised into `Target`s. */
import { parseOptions, z } from '../../core/index.ts'
import { ConfigError } from '../../core/index.ts'
import type { Clock, Target } from '../../core/index.ts'
import { failureMatcherSchema, type FailureMatcher } from '../../core/index.ts'
import { timeoutsSchema } from '../../core/index.ts'
import { globPattern, globProblem, isGlob, literalCharacters, REQUESTED_MODEL } from './match.ts'

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
  /**
   * Public model name → targets. An array is an ordered fallback list. A name may be a glob (`claude-*`; `*` alone
   * is the default route), and a target model may be `*`: the requested name (`'claude-*': ['anthropic/*']`).
   */
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
  /** Set when the name is a glob. */
  pattern?: RegExp
  /** Whether a target's model is `*` (the requested name), so the targets are made per request. */
  requestsModel: boolean
}

export interface RouterSettings {
  /** Every alias by name, globs included (for display and checks). */
  aliases: Map<string, Alias>
  /** Aliases with an exact name. */
  exact: Map<string, Alias>
  /** Glob aliases, most specific (most literal characters) first; `*` last. */
  globs: Alias[]
  fallbackOn: FailureMatcher[]
  latency: { alpha: number; explore: number }
  clock?: Clock
}

export function parseModelRef(ref: string): { provider: string; model: string } {
  const slash = ref.indexOf('/')
  return { provider: ref.slice(0, slash), model: ref.slice(slash + 1) }
}

function toWeightedTarget(alias: string, spec: z.output<typeof targetSchema>): WeightedTarget {
  const entry: { model: string; weight?: number; params?: Record<string, unknown>; timeouts?: Target['timeouts'] } = typeof spec === 'string' ? { model: spec } : spec
  const target: Target = parseModelRef(entry.model)
  if (target.model !== REQUESTED_MODEL && target.model.includes('*')) {
    throw new ConfigError(`router: option "models.${alias}": target "${entry.model}": a target model is literal, or "*" alone for the requested name`)
  }
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
    const normalised = targets.map((target) => toWeightedTarget(name, target))
    const seen = new Set<string>()
    for (const { key } of normalised) {
      if (seen.has(key)) throw new ConfigError(`router: option "models.${name}": target "${key}" is listed twice`)
      seen.add(key)
    }
    aliases.set(name, {
      name,
      targets: normalised,
      strategy: strategy ?? options.strategy,
      fallbackOn: fallbackOn ?? options.fallbackOn,
      ...(isGlob(name) ? { pattern: globPattern(checkedGlob(name)) } : {}),
      requestsModel: normalised.some((t) => t.target.model === REQUESTED_MODEL),
    })
  }
  const all = [...aliases.values()]
  // Array.prototype.sort is stable: globs of equal specificity keep config order.
  const globs = all.filter((alias) => alias.pattern).sort((a, b) => literalCharacters(b.name) - literalCharacters(a.name))
  const exact = new Map(all.filter((alias) => !alias.pattern).map((alias) => [alias.name, alias]))
  return { aliases, exact, globs, fallbackOn: options.fallbackOn, latency: options.latency, clock: options.clock }
}

function checkedGlob(name: string): string {
  const problem = globProblem(name)
  if (problem) throw new ConfigError(`router: option "models.${name}": this glob can never match a model name: it ${problem}`)
  if (name.includes('**')) throw new ConfigError(`router: option "models.${name}": write "*" once (a "*" already matches any run of characters, "/" included)`)
  return name
}
