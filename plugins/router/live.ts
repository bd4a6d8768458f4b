/**
 * The router's section of live config (`live()`): `{ models: { alias: spec | null } }` over the config file's
 * aliases — a spec adds or replaces an alias (same shapes as in the config: targets, weights, strategy,
 * per-target params and timeouts), `null` removes one. The whole result is parsed as the config file would be,
 * and every target must name a registered provider; requests already routed keep their plan.
 */
import { parseRouterOptions, type RouterOptions, type RouterSettings } from './options.ts'

/** The shape `live()` takes for a section (structural: a plugin imports no other plugin's files). */
interface LiveSection<T> {
  parse(value: unknown): T
  apply(parsed: T | undefined): void
  base?(): unknown
}

type ModelsOverlay = Record<string, unknown>

export function liveModelsSection(
  input: RouterOptions,
  base: RouterSettings,
  hasProvider: (name: string) => boolean,
  swap: (settings: RouterSettings) => void,
): LiveSection<RouterSettings> {
  return {
    parse(value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected { models: { alias: targets | null } }')
      const { models, ...rest } = value as { models?: unknown }
      const unknown = Object.keys(rest)[0]
      if (unknown) throw new Error(`unknown field "${unknown}" (expected models)`)
      if (typeof models !== 'object' || models === null || Array.isArray(models)) throw new Error('"models" must be an object of alias → targets (or null to remove one)')
      const merged: Record<string, unknown> = { ...input.models }
      for (const [name, spec] of Object.entries(models as ModelsOverlay)) {
        if (spec === null) delete merged[name]
        else merged[name] = spec
      }
      const settings = parseRouterOptions({ ...input, models: merged })
      for (const name of Object.keys(models as ModelsOverlay)) {
        const alias = settings.aliases.get(name)
        const missing = alias?.targets.find((t) => !hasProvider(t.target.provider))
        if (missing) throw new Error(`model "${name}": no provider "${missing.target.provider}" is registered`)
      }
      return settings
    },
    apply(parsed) {
      swap(parsed ?? base)
    },
    base: () => ({ models: input.models }),
  }
}
