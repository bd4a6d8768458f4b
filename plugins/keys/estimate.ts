/**
 * Worst-case cost of a request, for the budget reservation: the core's shared estimates (every text of the
 * body at ~4 characters per token, images at a fixed amount; the output cap the translation will send, times
 * `n`), priced at the dearest target the plan may use. The reservation is settled with the real cost.
 */
import { GatewayError, estimateInputTokens, outputTokenLimit } from '../../core/index.ts'
import type { ModelPrice, RequestContext, Services, Target } from '../../core/index.ts'

export type PricingService = Services['pricing']

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
  const input = estimateInputTokens(ctx)
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

export function shorten(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max)}...` : value
}
