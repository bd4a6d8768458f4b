/**
 * What the cache does with one request: `bypass` it (neither read nor stored), `lookup` (served from the cache
 * when an entry is fresh, else fetched and stored), or `refresh` (fetched and stored, never read). Decided from
 * the client's headers, the route's and the config's TTL, and whether the answer can be reproduced and carried
 * by the neutral view at all.
 *
 * - `cache-control: no-store` bypasses; `no-cache` refreshes.
 * - `x-sluice-cache-ttl: <seconds>` sets this answer's TTL (at most `maxTtl`) and is also the oldest entry the
 *   request accepts; 0 bypasses. Otherwise the route's TTL (by the model name asked for), else `ttl`.
 * - Never stored: `n > 1`, a temperature above 0 (the request's, or the target's params') unless
 *   `cacheNonDeterministic`, requests asking for what a stored answer cannot hold (logprobs), and requests
 *   with no neutral view (embeddings, built-in tools).
 */
import { GatewayError } from '../../core/index.ts'
import type { RequestContext, RequestView, Target } from '../../core/index.ts'
import { answerChangingExtras, cacheKey } from './key.ts'
import type { CacheSettings } from './options.ts'

export const TTL_HEADER = 'x-sluice-cache-ttl'

export type Decision =
  | { mode: 'bypass' }
  | {
    mode: 'lookup' | 'refresh'
    /** The target looked up (the one the request goes to first) and its key. */
    target: Target
    key: string
    /** Seconds a stored answer is served for. */
    ttl: number
    /** The oldest entry this request accepts, when it set its own TTL (ms). */
    maxAgeMs?: number
    /** The key the answer of another target (a fallback) is stored under; undefined when its params make it non-deterministic. */
    keyFor(target: Target): string | undefined
  }

const BYPASS: Decision = { mode: 'bypass' }

/** The request's `cache-control` directives that matter here. */
function directives(headers: Headers): { noStore: boolean; noCache: boolean } {
  const value = headers.get('cache-control')
  if (!value) return { noStore: false, noCache: false }
  const tokens = value.toLowerCase().split(',').map((token) => token.trim())
  return { noStore: tokens.includes('no-store'), noCache: tokens.includes('no-cache') }
}

/** `x-sluice-cache-ttl`, when sent: whole seconds, else a 400 naming the header. */
function requestTtl(headers: Headers): number | undefined {
  const value = headers.get(TTL_HEADER)
  if (value === null) return undefined
  if (!/^\d{1,9}$/.test(value.trim())) {
    throw new GatewayError(400, `${TTL_HEADER} must be a whole number of seconds`, { type: 'invalid_request_error', param: TTL_HEADER })
  }
  return Number(value.trim())
}

/** Whether the client asks for something a stored answer (the neutral view) does not hold. */
function asksForLogprobs(body: Record<string, unknown>): boolean {
  if (body.logprobs === true || body.top_logprobs != null) return true
  const include = body.include
  if (Array.isArray(include) && include.some((item) => typeof item === 'string' && item.includes('logprobs'))) return true
  const generation = (body.generationConfig ?? body.generation_config) as Record<string, unknown> | undefined
  return typeof generation === 'object' && generation !== null && (generation.responseLogprobs === true || generation.response_logprobs === true)
}

function viewOf(ctx: RequestContext): RequestView | undefined {
  try {
    return ctx.input()
  } catch {
    return undefined // no neutral view (embeddings, server-side tools, n > 1): passed on untouched, not cached
  }
}

export function decide(ctx: RequestContext, target: Target, settings: CacheSettings): Decision {
  const headers = ctx.request.headers
  const { noStore, noCache } = directives(headers)
  if (noStore) return BYPASS
  const asked = requestTtl(headers)
  const ttl = asked !== undefined ? Math.min(asked, settings.maxTtl) : settings.routes[ctx.model]?.ttl ?? settings.ttl
  if (ttl === 0) return BYPASS
  const body = ctx.body
  if ((typeof body.n === 'number' && body.n > 1) || asksForLogprobs(body)) return BYPASS
  const view = viewOf(ctx)
  if (!view) return BYPASS
  const random = (candidate: Target) => {
    const temperature = (candidate.params?.temperature as number | undefined) ?? view.temperature
    return typeof temperature === 'number' && temperature > 0 && !settings.cacheNonDeterministic
  }
  if (random(target)) return BYPASS

  const extras = answerChangingExtras(body)
  const principal = settings.scope === 'key' ? ctx.principal?.id ?? '' : undefined
  const keyFor = (answering: Target) => random(answering) ? undefined : cacheKey({ view, target: answering, extras, principal })
  return {
    mode: noCache ? 'refresh' : 'lookup',
    target,
    key: cacheKey({ view, target, extras, principal }),
    ttl,
    maxAgeMs: asked !== undefined ? asked * 1000 : undefined,
    keyFor,
  }
}
