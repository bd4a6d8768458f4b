/**
 * Model allow-lists: exact names (`openai/gpt-4o`, an alias like `fast`) and globs where `*` matches any run of
 * characters, `/` included (`openai/*`, `*-mini`, `*`). Compiled once per key, then O(1) for exact names.
 */
export type ModelMatcher = (model: string) => boolean

const allowAll: ModelMatcher = () => true

/** `patterns` undefined means every model is allowed; an empty list allows none. */
export function compileModelMatcher(patterns: readonly string[] | undefined): ModelMatcher {
  if (!patterns) return allowAll
  if (patterns.includes('*')) return allowAll
  const exact = new Set<string>()
  const globs: RegExp[] = []
  for (const pattern of patterns) {
    if (pattern.includes('*')) globs.push(globToRegExp(pattern))
    else exact.add(pattern)
  }
  if (globs.length === 0) return (model) => exact.has(model)
  return (model) => exact.has(model) || globs.some((glob) => glob.test(model))
}

function globToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${source}$`, 's')
}
