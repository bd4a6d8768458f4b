/**
 * Which alias serves a requested model. Alias names may be globs where `*` matches any run of characters
 * (`claude-*`, `*-haiku-*`), and `*` alone is the default route. An exact name wins; then the most specific glob
 * — the one with the most literal characters, config order breaking a tie; then `*`.
 *
 * Globs never take a `provider/model` name whose provider is registered: that name addresses the provider directly,
 * as it does without a router, so a default route cannot swallow it.
 */
import { modelNameProblem } from '../../core/index.ts'
import type { Target } from '../../core/index.ts'
import type { Alias, WeightedTarget } from './options.ts'

/** A target model of `*` stands for the requested model name (`'claude-*': ['anthropic/*']`). */
export const REQUESTED_MODEL = '*'

export function isGlob(name: string): boolean {
  return name.includes('*')
}

export function globPattern(glob: string): RegExp {
  const source = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')
  return new RegExp(`^${source}$`, 's')
}

/** How specific a glob is: its literal characters. `*` has none, so it comes last. */
export function literalCharacters(glob: string): number {
  return glob.replaceAll('*', '').length
}

/**
 * Why no model name a client can send (core/validate.ts) can match `glob`, or undefined when one can. Each `*`
 * is tried as one character and as none: a glob both fail for holds characters or segments no name has.
 */
export function globProblem(glob: string): string | undefined {
  const asOne = modelNameProblem(glob.replaceAll('*', 'x'))
  return asOne && modelNameProblem(glob.replaceAll('*', '')) ? asOne : undefined
}

export interface AliasTable {
  exact: ReadonlyMap<string, Alias>
  /** Most specific first. */
  globs: readonly Alias[]
}

export function matchAlias(table: AliasTable, model: string, addressesProvider: (model: string) => boolean): Alias | undefined {
  const exact = table.exact.get(model)
  if (exact) return exact
  if (table.globs.length === 0 || addressesProvider(model)) return undefined
  return table.globs.find((alias) => alias.pattern!.test(model))
}

/** The alias's targets for one request: a `*` target model becomes the requested name. */
export function targetsFor(alias: Alias, model: string): WeightedTarget[] {
  if (!alias.requestsModel) return alias.targets
  return alias.targets.map((weighted) => {
    if (weighted.target.model !== REQUESTED_MODEL) return weighted
    const target: Target = { ...weighted.target, model }
    return { ...weighted, target, key: `${target.provider}/${model}` }
  })
}

/**
 * Globs that start with a registered provider's `name/` (`openai/*` beside an `openai` provider): every name they
 * could match addresses that provider directly, so they never apply. Checked once every plugin is set up.
 */
export function shadowedGlobWarnings(globs: readonly Alias[], hasProvider: (name: string) => boolean): string[] {
  return globs.flatMap((alias) => {
    const prefix = alias.name.split('/')[0]!
    return alias.name.includes('/') && !prefix.includes('*') && hasProvider(prefix)
      ? [`router: glob "${alias.name}" never applies: "${prefix}/…" names the registered provider "${prefix}", which is addressed directly`]
      : []
  })
}
