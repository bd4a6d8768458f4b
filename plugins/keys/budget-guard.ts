/**
 * The budget's `limit` hook. It runs after routing, so the worst case is priced at the targets the request may
 * really reach; the settle function it returns releases the reservation with the real cost (`record.costUSD`,
 * priced by the core before settling) whatever way the request ended.
 *
 * Without the `pricing` and `spend` services (the usage plugin) a budget cannot be enforced. Budgeted keys are
 * then refused with 503 (the gateway's fault, not the caller's, hence not 403) and the operator is warned once:
 * serving them would silently turn a spending cap into no cap at all.
 */
import type { ConsolaInstance } from 'consola'
import { GatewayError } from '../../core/index.ts'
import type { PluginContext, RequestContext, Settle } from '../../core/index.ts'
import { STATE_SLOT } from './auth.ts'
import { BudgetLedger, type Reservation } from './budget.ts'
import { worstCaseCostUSD } from './estimate.ts'
import type { CachedKey } from './key-cache.ts'

export interface KeysState {
  key: CachedKey
}

type ServiceSource = Pick<PluginContext, 'inject'>

export class BudgetGuard {
  private warnedMissingServices = false

  constructor(
    readonly ledger: BudgetLedger,
    private readonly services: ServiceSource,
    private readonly logger: ConsolaInstance,
    private readonly defaultMaxTokens: number,
  ) {}

  async limit(ctx: RequestContext): Promise<Settle | undefined> {
    const state = ctx.state[STATE_SLOT] as KeysState | undefined
    const budget = state?.key.record.budget
    if (!state || !budget) return
    const pricing = this.services.inject('pricing')
    const spend = this.services.inject('spend')
    if (!pricing || !spend) {
      if (!this.warnedMissingServices) {
        this.warnedMissingServices = true
        this.logger.warn('keys: a key has a budget but no plugin provides "pricing" and "spend" (add usage()); requests with budgeted keys are refused')
      }
      throw new GatewayError(503, 'This key has a budget, but the gateway cannot measure spend right now, so the request was not sent.', {
        type: 'api_error',
        code: 'budget_unavailable',
      })
    }
    const estimate = worstCaseCostUSD(ctx, pricing, this.defaultMaxTokens)
    const reservation: Reservation = await this.ledger.reserve(state.key.record.id, budget, estimate, spend)
    return (record) => this.ledger.settle(reservation, record.costUSD ?? 0)
  }
}
