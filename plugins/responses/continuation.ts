/**
 * The `route` hook: before the router plans the request and before anything translates it, a Responses request
 * that continues a stored conversation gets it written out. `previous_response_id` becomes the stored response's
 * input and output items in front of the request's own input (its `instructions` are not inherited, as OpenAI
 * does), `item_reference`s become the items they name, and `ctx.body` is replaced by the result: from there on
 * it is a self-contained request that any provider can serve, on any replica that shares the storage.
 */
import { GatewayError } from '../../core/index.ts'
import type { ProviderResponse, RequestContext } from '../../core/index.ts'
import { hasItemReference, inputItems, outputItems, resolveReferences, shown } from './items.ts'
import type { Item, ResponseStore } from './store.ts'

/** What the plugin keeps about a Responses request, in `ctx.state.responses`. */
export interface ResponsesState {
  /** Whether the response is to be kept: `store` is true unless the client sent `false` (the API's default). */
  store: boolean
  /** Whose it is: the principal's id, or null on a gateway without auth. */
  owner: string | null
  /** The response this request continues, as the client named it. */
  previousId?: string
  /** How many items at the start of the input came from the conversation before (not the client's own). */
  historyLength: number
  /** Set once a response to keep has been seen: call it when the write is done (or given up). */
  finishWrite?: () => void
  /** Streams: the final response object, from `response.completed` / `response.incomplete`. */
  final?: Item
  /** Non-stream: the response the `call` chain produced. */
  result?: ProviderResponse
}

export function stateOf(ctx: RequestContext): ResponsesState | undefined {
  return ctx.state.responses
}

export function previousNotFound(id: unknown): GatewayError {
  return new GatewayError(404, `Previous response with id '${shown(id)}' not found.`, {
    type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found',
  })
}

export function createContinuation(store: ResponseStore) {
  async function writeOut(ctx: RequestContext, state: ResponsesState): Promise<void> {
    const { previous_response_id: previousId, ...rest } = ctx.body
    let history: Item[] = []
    if (previousId != null) {
      if (typeof previousId !== 'string') throw new GatewayError(400, 'previous_response_id must be a string', { type: 'invalid_request_error', param: 'previous_response_id' })
      const previous = await store.getResponse(previousId, state.owner)
      if (!previous) throw previousNotFound(previousId)
      history = [...previous.input, ...outputItems(previous.response)]
      state.previousId = previousId
    }
    const own = await resolveReferences(inputItems(ctx.body.input), (id) => store.getItem(id, state.owner))
    state.historyLength = history.length
    ctx.body = { ...rest, input: [...history, ...own] }
  }

  return function continueConversation(ctx: RequestContext): Promise<void> | undefined {
    if (ctx.api !== 'openai-responses') return
    const body = ctx.body
    const state: ResponsesState = { store: body.store !== false, owner: ctx.principal?.id ?? null, historyLength: 0 }
    ctx.state.responses = state
    // Most requests neither continue nor reference anything: no storage read, no copy.
    if (body.previous_response_id == null && !hasItemReference(body.input)) return
    return writeOut(ctx, state)
  }
}
