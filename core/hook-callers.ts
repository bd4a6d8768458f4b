/**
 * How each phase runs its hooks (hookable's `callHookWith` callers): gates stop at the first answer, `call`
 * hooks wrap each other like an onion, `stream` hooks are asked once per response for their handlers.
 * Hooks arrive sorted (plugin order) and already bound to their plugin's context.
 */
import type { Context } from './context.ts'
import { DeltaChain } from './view.ts'
import type { Attempt, CallNext, GatewayHooks, ProviderResponse, Settle, StreamHandlers, StreamTransform } from './types.ts'

type Hook<N extends keyof GatewayHooks> = GatewayHooks[N]

/**
 * Runs gate hooks in order and stops at the first that sets `ctx.response` (a throw stops it too). Functions
 * the hooks return are kept as the request's settle functions.
 */
export function gateCaller(hooks: Hook<'limit'>[], [ctx]: [Context]): void | Promise<void> {
  for (let i = 0; i < hooks.length; i++) {
    const result = hooks[i]!(ctx)
    if (typeof result === 'function') ctx.settles.push(result)
    else if (result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<void | Settle>).then((settle) => {
        if (typeof settle === 'function') ctx.settles.push(settle)
        return ctx.response ? undefined : gateCaller(hooks.slice(i + 1), [ctx])
      })
    }
    if (ctx.response) return
  }
}

/** Composes `call` hooks around the provider call: hooks[0] is outermost. */
export function onionCaller(hooks: Hook<'call'>[], [ctx, attempt, innermost]: [Context, Attempt, CallNext]): Promise<ProviderResponse> {
  const dispatch = (index: number, current: Attempt): Promise<ProviderResponse> =>
    index < hooks.length ? hooks[index]!(ctx, current, (next) => dispatch(index + 1, next)) : innermost(current)
  return dispatch(0, attempt)
}

/** What the `stream` hooks asked for, for one response. */
export interface ResponseHandlers {
  /** Raw, client-format event transforms (streams only). */
  transforms: StreamTransform[]
  /** Delta editors and observers (streams and non-stream responses). */
  deltas: DeltaChain
}

export function streamCaller(hooks: Hook<'stream'>[], [ctx]: [Context]): ResponseHandlers {
  const transforms: StreamTransform[] = []
  const editors: Array<Pick<StreamHandlers, 'delta' | 'flush'>> = []
  const observers: Array<NonNullable<StreamHandlers['observe']>> = []
  for (const hook of hooks) {
    const handlers = hook(ctx)
    if (!handlers) continue
    if (typeof handlers === 'function') {
      transforms.push(handlers)
      continue
    }
    if (handlers.event) transforms.push(handlers.event)
    if (handlers.delta || handlers.flush) editors.push(handlers)
    if (handlers.observe) observers.push(handlers.observe)
  }
  return { transforms, deltas: new DeltaChain(editors, observers, ctx) }
}
