/**
 * A cost header on every model response: `x-sluice-cost-estimate-usd`, the most the request can cost — its input
 * estimate plus its output cap (the client's `max_tokens`, else `defaultMaxTokens`), priced for the target that
 * answers. These are the gateway's shared estimates, the ones budget reservations are made from.
 *
 * Why only an estimate: headers leave before the first byte of the body, and the real cost depends on tokens the
 * model has not generated yet. The real cost is known once the response has ended: the core prices it into the
 * request's record (`record.costUSD`), which `usage()` stores and `GET /admin/usage` reports. (HTTP trailers could
 * carry it, but fetch and the official SDKs never show them.)
 */
import { definePlugin, estimateInputTokens, outputTokenLimit, parseOptions, z } from 'sluice'

const optionsSchema = z.strictObject({
  header: z.string().min(1).default('x-sluice-cost-estimate-usd'),
  /** Output tokens assumed for a request that sets no cap. */
  defaultMaxTokens: z.number().int().min(1).default(4096),
})

/** USD rounded up to a millionth, so the rounding never makes the worst case smaller. */
const usd = (amount: number) => (Math.ceil(amount * 1e6) / 1e6).toFixed(6)

export const costHeader = definePlugin((input: z.input<typeof optionsSchema> = {}) => {
  const options = parseOptions('cost-header', optionsSchema, input)
  return {
    name: 'cost-header',
    options,
    hooks: {
      // The stream hook runs once per response, streamed or not, before its first byte and after the target
      // that answers is known (fallbacks included). Returning nothing leaves the response untouched.
      stream(ctx, gw) {
        const pricing = gw.inject('pricing')
        const price = ctx.target && pricing?.price(ctx.target.provider, ctx.target.model)
        if (!price) return // an unknown price gets no header rather than a false zero
        const worst = estimateInputTokens(ctx) * price.input + outputTokenLimit(ctx, options.defaultMaxTokens) * price.output
        ctx.responseHeaders.set(options.header, usd(worst))
      },
    },
  }
})
