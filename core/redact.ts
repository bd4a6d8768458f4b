/** Options shown by `sluice check` and the dashboard: secrets replaced, everything else as given. */
const SECRET_KEY = /key|secret|token|password|authorization/i
// user:password@ in a connection URL (redis://:pw@host, postgres://user:pw@host/db)
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]+@/i

export function redactOptions<T extends Record<string, unknown>>(options: T): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (SECRET_KEY.test(key) && value !== undefined) out[key] = '[redacted]'
    else if (typeof value === 'string' && URL_PASSWORD.test(value)) out[key] = value.replace(URL_PASSWORD, '$1[redacted]@')
    else if (value && typeof value === 'object' && !Array.isArray(value)) out[key] = redactOptions(value as Record<string, unknown>)
    else out[key] = value
  }
  return out
}
