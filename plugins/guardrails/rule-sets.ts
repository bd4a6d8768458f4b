/**
 * Rules compiled into rule sets — what each phase runs — and the set a request gets: its key's (by principal
 * id or name), else its route's (by the model or alias it asked for), else the default. Exact names are Map lookups;
 * globs are tried most specific first (most literal characters, then config order). A set replaces the default
 * rather than adding to it: compose lists in the config (`[...base, extra]`) to extend one.
 */
import type { PluginContext, RequestContext } from '../../core/index.ts'
import type { Action, Detector } from './detector.ts'
import type { AsyncCheck } from './async-checks.ts'
import type { GuardrailsSettings, RuleSettings } from './options.ts'
import { WordsDetector, patternDetector } from './denylist.ts'
import { piiDetector } from './pii.ts'
import { secretDetector } from './secrets.ts'
import { askForVerdict } from './model-verdict.ts'

type Verdict = Extract<Action, 'block' | 'flag'>

export interface InputRules {
  detectors: Detector[]
  promptSize: Array<{ rule: string; action: Verdict; maxTokens: number }>
  /** Checks the request waits for (block, redact, or fail-closed). */
  awaited: AsyncCheck[]
  /** Flag-only, fail-open checks: run beside the upstream call; their verdicts reach the record. */
  background: AsyncCheck[]
}

export interface OutputRules {
  detectors: Detector[]
  json: Array<{ rule: string; action: Verdict; maxChars: number }>
  /** Checks the whole reply waits for before any of it is sent (block, redact, or fail-closed). */
  hold: AsyncCheck[]
  /** Flag-only, fail-open checks: judge the reply after it was sent; their verdicts reach the record. */
  after: AsyncCheck[]
}

export interface RuleSet {
  input?: InputRules
  output?: OutputRules
}

function asyncCheck(rule: Extract<RuleSettings, { type: 'custom' | 'model' }>, gw: PluginContext): AsyncCheck {
  const failMode = rule.failMode ?? (rule.action === 'flag' ? 'open' : 'closed')
  const base = { rule: rule.name, action: rule.action, failMode, timeoutMs: rule.timeoutMs }
  if (rule.type === 'custom') return { ...base, run: rule.check }
  const spec = { model: rule.model, policy: rule.policy, prompt: rule.prompt, maxTokens: rule.maxTokens, maxChars: rule.maxChars }
  return { ...base, run: (text, info) => askForVerdict(gw, spec, text, info.ctx, info.signal) }
}

function detectorsOf(rule: RuleSettings): Detector[] {
  switch (rule.type) {
    case 'denylist':
      return [
        ...(rule.words.length ? [new WordsDetector(rule.name, rule.action, rule.words)] : []),
        ...rule.patterns.map((pattern) => patternDetector(rule.name, rule.action, pattern instanceof RegExp ? { pattern, maxLength: 64, spaces: false } : pattern)),
      ]
    case 'pii':
      return rule.kinds.map((kind) => piiDetector(kind, `${rule.name}.${kind}`, rule.action))
    case 'secrets':
      return rule.kinds.map((kind) => secretDetector(kind, `${rule.name}.${kind}`, rule.action))
    default:
      return []
  }
}

export function compileRules(rules: readonly RuleSettings[], gw: PluginContext): RuleSet {
  const input: InputRules = { detectors: [], promptSize: [], awaited: [], background: [] }
  const output: OutputRules = { detectors: [], json: [], hold: [], after: [] }
  for (const rule of rules) {
    switch (rule.type) {
      case 'prompt-size':
        input.promptSize.push({ rule: rule.name, action: rule.action, maxTokens: rule.maxTokens })
        break
      case 'json-schema':
        output.json.push({ rule: rule.name, action: rule.action, maxChars: rule.maxChars })
        break
      case 'custom':
      case 'model': {
        const check = asyncCheck(rule, gw)
        const later = check.action === 'flag' && check.failMode === 'open'
        if (rule.on.includes('input')) (later ? input.background : input.awaited).push(check)
        if (rule.on.includes('output')) (later ? output.after : output.hold).push(check)
        break
      }
      default: {
        const detectors = detectorsOf(rule)
        if (rule.on.includes('input')) input.detectors.push(...detectors)
        if (rule.on.includes('output')) output.detectors.push(...detectors)
      }
    }
  }
  const some = (lists: object) => Object.values(lists).some((list: unknown[]) => list.length > 0)
  return { input: some(input) ? input : undefined, output: some(output) ? output : undefined }
}

interface GlobEntry {
  pattern: RegExp
  literal: number
  set: RuleSet
}

/** Rule sets by name: exact names first, then globs, most specific first. */
class Table {
  readonly #exact = new Map<string, RuleSet>()
  readonly #globs: GlobEntry[] = []

  constructor(entries: Iterable<[string, RuleSet]>) {
    for (const [name, set] of entries) {
      if (!name.includes('*')) this.#exact.set(name, set)
      else {
        const source = name.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')
        this.#globs.push({ pattern: new RegExp(`^${source}$`, 's'), literal: name.replaceAll('*', '').length, set })
      }
    }
    this.#globs.sort((a, b) => b.literal - a.literal) // stable: config order breaks ties
  }

  match(name: string): RuleSet | undefined {
    return this.#exact.get(name) ?? this.#globs.find((glob) => glob.pattern.test(name))?.set
  }
}

export class RuleSets {
  readonly #fallback: RuleSet
  readonly #keys: Table
  readonly #routes: Table
  readonly all: readonly RuleSet[]

  constructor(settings: GuardrailsSettings, gw: PluginContext) {
    const compile = (entries: Record<string, RuleSettings[]>) => Object.entries(entries).map(([name, rules]): [string, RuleSet] => [name, compileRules(rules, gw)])
    const keys = compile(settings.keys)
    const routes = compile(settings.routes)
    this.#fallback = compileRules(settings.rules, gw)
    this.#keys = new Table(keys)
    this.#routes = new Table(routes)
    this.all = [this.#fallback, ...keys.map(([, set]) => set), ...routes.map(([, set]) => set)]
  }

  /** The set for a request: its key's (by principal id, then name), else its route's, else the default. */
  for(ctx: RequestContext): RuleSet {
    const principal = ctx.principal
    const byKey = principal && (this.#keys.match(principal.id) ?? (principal.name ? this.#keys.match(principal.name) : undefined))
    return byKey ?? this.#routes.match(ctx.model) ?? this.#fallback
  }

  /** Whether any set has rules for a phase, decides which hooks the plugin registers at all. */
  some(has: (set: RuleSet) => boolean): boolean {
    return this.all.some(has)
  }
}
