/** Options shown by `sluice check` and the dashboard: secrets replaced, everything else as given. */
const SECRET_KEY = /key|secret|token|password|authorization/i
// user:password@ in a connection URL (redis://:pw@host, postgres://user:pw@host/db)
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]+@/i

export function redactOptions<T extends Record<string, unknown>>(options: T): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) out[key] = SECRET_KEY.test(key) && value !== undefined ? '[redacted]' : redactValue(value)
  return out
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return URL_PASSWORD.test(value) ? value.replace(URL_PASSWORD, '$1[redacted]@') : value
  if (Array.isArray(value)) return value.map(redactValue)
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return redactOptions(value as Record<string, unknown>)
  return value
}

/** Free text with secrets (bearer tokens, `sk-…` keys, secret-looking fields) replaced, as every log line is. */
export { redact as redactSecrets } from './logger.ts'
