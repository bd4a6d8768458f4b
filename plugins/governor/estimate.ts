/**
 * The governor's token estimate, made before the call so token limits can reserve it: the core's shared input
 * estimate (every text of the body, tools and tool calls included, images at a fixed amount) plus the output the
 * client allows (times `n`). The settle function evens it out with the real usage.
 */
import { estimateInputTokens, outputTokenLimit } from '../../core/index.ts'
import type { RequestContext } from '../../core/index.ts'

export function estimateRequestTokens(ctx: RequestContext, defaultMaxTokens: number): number {
  return estimateInputTokens(ctx) + outputTokenLimit(ctx, defaultMaxTokens)
}
