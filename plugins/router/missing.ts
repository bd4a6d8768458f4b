/**
 * Aliases that name a provider nobody registered (a typo, a provider left out of the config). Providers
 * register in their own `setup`, which may run after the router's, so this is checked once every plugin is
 * set up: at the core's ready signal when it offers one, else at the first request. Reported once, for every
 * alias at once — not only for the aliases that happen to be requested.
 */
import type { Alias } from './options.ts'

const quoted = (names: string[]) => names.map((name) => `"${name}"`).join(', ')

export function missingProviderWarnings(aliases: Iterable<Alias>, hasProvider: (name: string) => boolean): string[] {
  const aliasesByProvider = new Map<string, string[]>()
  const unservable: string[] = []
  for (const alias of aliases) {
    let available = 0
    for (const { target } of alias.targets) {
      if (hasProvider(target.provider)) {
        available++
        continue
      }
      const names = aliasesByProvider.get(target.provider) ?? []
      if (!names.includes(alias.name)) names.push(alias.name)
      aliasesByProvider.set(target.provider, names)
    }
    if (available === 0) unservable.push(alias.name)
  }
  const lines = [...aliasesByProvider].map(([provider, names]) =>
    `router: no provider "${provider}" is registered; its targets are skipped in model${names.length > 1 ? 's' : ''} ${quoted(names)}`)
  if (unservable.length > 0) {
    lines.push(`router: model${unservable.length > 1 ? 's' : ''} ${quoted(unservable)} ${unservable.length > 1 ? 'have' : 'has'} no registered provider at all: requests for ${unservable.length > 1 ? 'them' : 'it'} get 404`)
  }
  return lines
}
