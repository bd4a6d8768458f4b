/**
 * Which requests keep their content: the first rule a request matches decides (`true`, `false`, or a share),
 * else the `content` option. A share is drawn once per request, so one request is never half kept.
 *
 * Rules on status are known only once the request has ended; the rest are known when the response begins. When
 * the response begins the plugin asks `mayCapture` and collects the response only if some rule could still keep
 * it: with content off and no rule that could apply, a request costs nothing extra.
 */
import type { ContentShare, LogRule } from './options.ts'

export interface Subject {
  model: string
  /** `provider/model` of the target that answered (or was tried last). */
  target?: string
  provider?: string
  principalId?: string
  principalName?: string
}

/** `*` matches any run of characters; everything else is literal. */
export function globMatcher(glob: string): (value: string) => boolean {
  if (!glob.includes('*')) return (value) => value === glob
  const regex = new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
  return (value) => regex.test(value)
}

interface CompiledRule {
  status?: (status: number, outcome: string) => boolean
  model?: (value: string) => boolean
  key?: (value: string) => boolean
  provider?: (value: string) => boolean
  content: ContentShare
}

function statusTest(match: NonNullable<LogRule['status']>): (status: number, outcome: string) => boolean {
  if (typeof match === 'number') return (status) => status === match
  switch (match) {
    case 'error': return (status, outcome) => status >= 400 || outcome !== 'ok'
    case 'ok': return (status, outcome) => status < 400 && outcome === 'ok'
    case '4xx': return (status) => status >= 400 && status < 500
    case '5xx': return (status) => status >= 500
  }
}

const kept = (share: ContentShare, draw: number) => share === true || (typeof share === 'number' && draw < share)
const possible = (share: ContentShare) => share === true || (typeof share === 'number' && share > 0)

export class ContentSampler {
  readonly #rules: CompiledRule[]

  constructor(readonly fallback: ContentShare, rules: readonly LogRule[]) {
    this.#rules = rules.map((rule) => ({
      status: rule.status === undefined ? undefined : statusTest(rule.status),
      model: rule.model === undefined ? undefined : globMatcher(rule.model),
      key: rule.key === undefined ? undefined : globMatcher(rule.key),
      provider: rule.provider === undefined ? undefined : globMatcher(rule.provider),
      content: rule.content,
    }))
  }

  /** Whether no request can ever keep content (then nothing is collected at all). */
  get never(): boolean {
    return !possible(this.fallback) && this.#rules.every((rule) => !possible(rule.content))
  }

  #matchesSubject(rule: CompiledRule, subject: Subject): boolean {
    if (rule.model && !(rule.model(subject.model) || (subject.target !== undefined && rule.model(subject.target)))) return false
    if (rule.key && !((subject.principalId !== undefined && rule.key(subject.principalId)) || (subject.principalName !== undefined && rule.key(subject.principalName)))) return false
    if (rule.provider && !(subject.provider !== undefined && rule.provider(subject.provider))) return false
    return true
  }

  /** When the response begins: could this request still keep its content, whatever its status turns out to be? */
  mayCapture(subject: Subject, draw: number): boolean {
    for (const rule of this.#rules) {
      if (!this.#matchesSubject(rule, subject)) continue
      if (!rule.status) return kept(rule.content, draw)
      if (kept(rule.content, draw)) return true // it may match once the status is known
    }
    return kept(this.fallback, draw)
  }

  /** Once the request has ended: does it keep its content? */
  captures(subject: Subject, status: number, outcome: string, draw: number): boolean {
    for (const rule of this.#rules) {
      if (!this.#matchesSubject(rule, subject)) continue
      if (rule.status && !rule.status(status, outcome)) continue
      return kept(rule.content, draw)
    }
    return kept(this.fallback, draw)
  }
}
