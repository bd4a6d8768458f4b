/**
 * Secrets out of logged content. Applied to every string of an entry's content (and its error message) before the
 * entry leaves the request: the queue, the spill file and the database only ever hold redacted text.
 *
 * What goes: the key this request presented (whatever its shape), `sk-…` keys (OpenAI, Anthropic, Sluice's own
 * virtual keys), vendor tokens with a known prefix (AWS, GitHub, GitLab, Google, Slack, Stripe, JWTs), bearer
 * tokens, PEM private keys, passwords in connection URLs, and the values of key-like fields (`"api_key": "…"`,
 * `password=…`). Options add patterns of their own.
 */
export const REDACTED = '[redacted]'

const SHAPES: RegExp[] = [
  /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
  /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{8,}/g, // as short as the core's log-line redaction takes them
  /(?<![A-Za-z0-9_-])(?:(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35}|xox[abeoprs]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})(?![A-Za-z0-9_-])/g,
]

// `Bearer <token>`, and user:password@ in a URL: the secret part only.
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi
// "api_key": "…", 'secret': '…', password=…, token: … (a key-like name, then its value).
const KEYLIKE_JSON = /("(?:[\w-]*?)(?:api[_-]?key|admin[_-]?key|access[_-]?key|private[_-]?key|secret|token|password|passwd|authorization|credential)(?:[\w-]*)"\s*:\s*")((?:[^"\\]|\\.){4,})(")/gi
// In prose only values that look generated (a letter and a digit or symbol), so `tokens: 1200` stays.
const KEYLIKE_TEXT = /\b((?:[\w-]*?)(?:api[_-]?key|secret|token|password|passwd)[\w-]*\s*[=:]\s*)(?!\[redacted\])(?=[^\s"',;]*[A-Za-z])(?=[^\s"',;]*[0-9_+/-])([^\s"',;]{6,})/gi

export type Redactor = (text: string) => string

/** A redactor for one request: the built-in shapes, the operator's patterns, and the key the request presented. */
export function redactor(extra: readonly RegExp[], presentedKey?: string): Redactor {
  const exact = presentedKey && presentedKey.length >= 8 ? presentedKey : undefined
  return (text) => {
    if (!text) return text
    let out = text
    if (exact && out.includes(exact)) out = out.split(exact).join(REDACTED)
    for (const shape of SHAPES) out = out.replace(shape, REDACTED)
    for (const pattern of extra) out = out.replace(pattern, REDACTED)
    out = out.replace(BEARER, `$1${REDACTED}`)
    out = out.replace(URL_PASSWORD, `$1${REDACTED}@`)
    out = out.replace(KEYLIKE_JSON, `$1${REDACTED}$3`)
    out = out.replace(KEYLIKE_TEXT, `$1${REDACTED}`)
    return out
  }
}
