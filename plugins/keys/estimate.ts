/**
 * Worst-case cost of a request, for the budget reservation. Deliberately cheap (no tokenizing on the request
 * path): prompt tokens ~ body bytes / 4 (from Content-Length when honest, else the serialised body), output
 * tokens = the request's max tokens or a default, priced at the dearest target the plan may use.
 * Large binary payloads (base64 images) overestimate the prompt; the reservation is settled with the real cost.
 */
import { GatewayError } from '../../core/errors.ts'
import type { ModelPrice, RequestContext, Services, Target } from '../../core/types.ts'

export type PricingService = Services['pricing']

const MAX_TOKEN_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const

export function promptTokenEstimate(ctx: RequestContext): number {
  const header = ctx.request.headers.get('content-length')
  const declared = header === null ? NaN : Number(header)
  const chars = Number.isSafeInteger(declared) && declared >= 0 ? declared : safeLength(ctx.body)
  return Math.ceil(chars / 4)
}

export function outputTokenLimit(ctx: RequestContext, fallback: number): number {
  if (ctx.api === 'openai-embeddings') return 0
  for (const field of MAX_TOKEN_FIELDS) {
    const value = ctx.body?.[field]
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.ceil(value)
  }
  return fallback
}

/** The targets this request may be sent to: the routed plan, or the `provider/model` asked for. */
export function candidateTargets(ctx: RequestContext): Target[] {
  if (ctx.plan.length > 0) return ctx.plan
  const slash = ctx.model.indexOf('/')
  return slash > 0 ? [{ provider: ctx.model.slice(0, slash), model: ctx.model.slice(slash + 1) }] : []
}

/**
 * USD the request may cost at most. Throws 403 when a target has no known price: a budgeted key can only
 * call priced models, or its spend could never be counted.
 */
export function worstCaseCostUSD(ctx: RequestContext, pricing: PricingService, defaultMaxTokens: number): number {
  const targets = candidateTargets(ctx)
  const input = promptTokenEstimate(ctx)
  const output = outputTokenLimit(ctx, defaultMaxTokens)
  let worst = 0
  for (const target of targets) {
    const price: ModelPrice | undefined = pricing.price(target.provider, target.model)
    if (!price) {
      throw new GatewayError(403, `model "${shorten(ctx.model)}" has no known price, and this key has a budget: it may only call priced models`, {
        type: 'permission_error',
        code: 'model_not_priced',
      })
    }
    worst = Math.max(worst, input * price.input + output * price.output)
  }
  if (targets.length === 0) {
    throw new GatewayError(403, `model "${shorten(ctx.model)}" cannot be priced, and this key has a budget`, { type: 'permission_error', code: 'model_not_priced' })
  }
  return worst
}

function safeLength(body: unknown): number {
  try {
    return JSON.stringify(body ?? {}).length
  } catch {
    return 0
  }
}

export function shorten(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max)}...` : value
}
