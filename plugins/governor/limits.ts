/**
 * Limit rules compiled once into GCRA parameters, and matched to a request: which buckets it draws from
 * (`<rule id>:<scope value>`) and what the client is told when one of them is full.
 */
import { createHash } from 'node:crypto'
import type { RequestContext } from '../../core/index.ts'
import { gcraParams, type GcraParams } from './gcra.ts'

export type Scope = 'key' | 'model' | 'target' | 'key-model' | 'global'
export type Unit = 'requests' | 'tokens'

/** One rule's numbers, as config and key metadata give them. */
export interface LimitSpec {
  rps?: number
  rpm?: number
  tpm?: number
  /** Requests that may pass at once; defaults to the limit itself (a whole period's quota), as governor's `Quota` does. */
  burst?: number
  /** Tokens that may be spent at once; defaults to `tpm`. */
  tokenBurst?: number
  maxConcurrent?: number
}

export interface RateLimit {
  /** Stable across replicas with the same config: part of the bucket key. */
  id: string
  scope: Scope
  unit: Unit
  limit: number
  params: GcraParams
  /** "100 requests per minute". */
  label: string
}

export interface ConcurrencyLimit {
  id: string
  scope: Scope
  max: number
}

export interface CompiledLimits {
  rates: RateLimit[]
  concurrency: ConcurrencyLimit[]
}

export const EMPTY_LIMITS: CompiledLimits = { rates: [], concurrency: [] }

/** The bucket of a `key` rule when no auth plugin named the caller: every anonymous caller shares it. */
export const ANONYMOUS = 'anonymous'

const SECOND = 1000
const MINUTE = 60 * SECOND

export function compileSpec(id: string, scope: Scope, spec: LimitSpec): CompiledLimits {
  const rates: RateLimit[] = []
  const rate = (suffix: string, unit: Unit, limit: number, periodMs: number, burst: number, per: string) =>
    // The numbers are part of the id: a changed limit starts a fresh bucket instead of inheriting a TAT
    // computed for other numbers (which could hold a raised limit back for a whole old period).
    rates.push({ id: `${id}:${suffix}${limit}b${burst}`, scope, unit, limit, params: gcraParams(limit, periodMs, burst), label: `${limit} ${limit === 1 ? unit.slice(0, -1) : unit} per ${per}` })
  if (spec.rps !== undefined) rate('rps', 'requests', spec.rps, SECOND, spec.burst ?? spec.rps, 'second')
  if (spec.rpm !== undefined) rate('rpm', 'requests', spec.rpm, MINUTE, spec.burst ?? spec.rpm, 'minute')
  if (spec.tpm !== undefined) rate('tpm', 'tokens', spec.tpm, MINUTE, spec.tokenBurst ?? spec.tpm, 'minute')
  const concurrency = spec.maxConcurrent === undefined ? [] : [{ id: `${id}:conc`, scope, max: spec.maxConcurrent }]
  return { rates, concurrency }
}

export function mergeLimits(parts: CompiledLimits[]): CompiledLimits {
  return { rates: parts.flatMap((p) => p.rates), concurrency: parts.flatMap((p) => p.concurrency) }
}

/** The value that tells one bucket of a scope from another, for this request. */
export function scopeValue(scope: Scope, ctx: RequestContext): string {
  switch (scope) {
    case 'key':
      return ctx.principal?.id ?? ANONYMOUS
    case 'model':
      return ctx.model
    case 'target': {
      const target = ctx.plan[0]
      return target ? `${target.provider}/${target.model}` : ctx.model
    }
    case 'key-model': {
      // Length-prefixed so no key id and model pair can spell another pair.
      const key = ctx.principal?.id ?? ANONYMOUS
      return `${key.length}:${key}:${ctx.model}`
    }
    case 'global':
      return '*'
  }
}

const MAX_SCOPE_CHARS = 200

/**
 * The bucket a limit draws from for this request. Scope values can come from the client (a model name), so
 * an absurdly long one is hashed rather than stored as a key.
 */
export function bucketKey(id: string, scope: Scope, ctx: RequestContext): string {
  const value = scopeValue(scope, ctx)
  return `${id}:${value.length > MAX_SCOPE_CHARS ? `#${createHash('sha256').update(value).digest('base64url')}` : value}`
}

function clip(text: string): string {
  return text.length > MAX_SCOPE_CHARS ? `${text.slice(0, MAX_SCOPE_CHARS)}…` : text
}

/** "for key k1", "for model gpt-4o", "globally": the end of a 429 message. */
export function describeScope(scope: Scope, ctx: RequestContext): string {
  switch (scope) {
    case 'key':
      return `for key ${clip(ctx.principal?.id ?? ANONYMOUS)}`
    case 'model':
      return `for model ${clip(ctx.model)}`
    case 'target':
      return `for target ${clip(scopeValue('target', ctx))}`
    case 'key-model':
      return `for key ${clip(ctx.principal?.id ?? ANONYMOUS)} on model ${clip(ctx.model)}`
    case 'global':
      return 'globally'
  }
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined
}

/**
 * Reads `principal.limits` as the keys plugin sets it (`{ rpm?, tpm?, maxConcurrent? }`, `rps` too). Values
 * that are not positive numbers are ignored rather than trusted.
 */
export function principalSpec(raw: unknown): LimitSpec | undefined {
  if (!raw || typeof raw !== 'object') return undefined
  const r = raw as Record<string, unknown>
  const spec: LimitSpec = {}
  for (const name of ['rps', 'rpm', 'tpm', 'burst', 'tokenBurst'] as const) {
    const v = positive(r[name])
    if (v !== undefined) spec[name] = v
  }
  const conc = positive(r.maxConcurrent)
  if (conc !== undefined) spec.maxConcurrent = Math.floor(conc)
  return Object.keys(spec).length ? spec : undefined
}
