/**
 * The cache key: a SHA-256 of the request in the neutral view, the target it goes to, and the parameters that
 * change an answer — so an OpenAI, Anthropic or Gemini client asking the same thing of the same model shares
 * one entry. Serialised canonically (object keys sorted, undefined left out) so field order never splits it.
 * Left out: the client's model name (the target stands for it), `stream` (either shape is served from one
 * entry) and the end-user id (it does not change the answer). The caller's identity is in it only with
 * `scope: 'key'`.
 */
import { createHash } from 'node:crypto'
import type { RequestView, Target } from '../../core/index.ts'

/** Bumped when what goes into a key changes, so old entries are simply never found again. */
const KEY_VERSION = 1

/** Writes `value` as JSON with object keys in sorted order and undefined members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const object = value as Record<string, unknown>
  let out = ''
  for (const name of Object.keys(object).sort()) {
    const member = object[name]
    if (member === undefined || typeof member === 'function') continue
    out += `${out ? ',' : ''}${JSON.stringify(name)}:${canonicalJson(member)}`
  }
  return `{${out}}`
}

/**
 * Body fields the neutral view does not carry but which change the answer: kept in the key so two requests
 * that differ only there never share an entry.
 */
export function answerChangingExtras(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const text = body.text as Record<string, unknown> | undefined
  const extras = {
    logitBias: body.logit_bias,
    verbosity: body.verbosity ?? (typeof text === 'object' && text !== null ? text.verbosity : undefined),
    safetySettings: body.safetySettings ?? body.safety_settings,
  }
  return extras.logitBias === undefined && extras.verbosity === undefined && extras.safetySettings === undefined ? undefined : extras
}

export interface KeyParts {
  view: RequestView
  target: Target
  extras?: Record<string, unknown>
  /** The caller's principal id, with `scope: 'key'`. */
  principal?: string
}

export function cacheKey(parts: KeyParts): string {
  const { model: _model, stream: _stream, user: _user, ...input } = parts.view
  const material = canonicalJson({
    v: KEY_VERSION,
    target: `${parts.target.provider}/${parts.target.model}`,
    params: parts.target.params,
    principal: parts.principal,
    extras: parts.extras,
    input,
  })
  return createHash('sha256').update(material).digest('hex')
}
