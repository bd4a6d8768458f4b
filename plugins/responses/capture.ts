/**
 * Keeping what the client got. The response is seen on its way out and written by the `record` hook, off the hot
 * path, only when the request succeeded:
 *
 * - streams: an event transform picks the final response object from `response.completed` /
 *   `response.incomplete` (only those events are parsed). It runs on the client-format events, so the object
 *   is the one the client read — the gateway's own ids when the response was translated, the upstream's when
 *   an OpenAI Responses upstream was passed through.
 * - JSON: a `call` hook keeps the response the call chain produced; at record time it becomes the object the
 *   client got: an OpenAI Responses upstream's body as it is, anything else encoded by the Responses codec with
 *   the same request id (hence the same `resp_…` and item ids) the gateway's answer used.
 */
import { codecFor, readOutput } from '../../core/index.ts'
import type { Attempt, CallNext, ProviderResponse, RequestContext, RequestRecord, SSEEvent, StreamHandlers, TranslateInfo } from '../../core/index.ts'
import { inputItems, isItem, outputItems } from './items.ts'
import { stateOf } from './continuation.ts'
import { echoInEvent, echoInResult, isLifecycleEvent } from './echo.ts'
import { isStorableId, type Item, type ResponseStore } from './store.ts'

const isFinal = (event: SSEEvent) => {
  const type = event.event ?? event.json?.type
  return type === 'response.completed' || type === 'response.incomplete'
}

/**
 * The `stream` hook, for a streamed response to keep or one that continues a conversation: a transform over the
 * lifecycle events only (the others pass untouched) that names the previous response in them, and notes the
 * final response object.
 */
export function createStreamCapture(store: ResponseStore) {
  const onEvent = (event: SSEEvent, ctx: RequestContext): SSEEvent => {
    const state = stateOf(ctx)
    if (!state || !isLifecycleEvent(event)) return event
    const out = state.previousId ? echoInEvent(event, state.previousId) : event
    if (state.store && isFinal(out) && isItem(out.json?.response)) {
      state.final = out.json.response
      state.finishWrite ??= store.beginWrite()
    }
    return out
  }
  return function streamCapture(ctx: RequestContext): StreamHandlers | undefined {
    const state = stateOf(ctx)
    return ctx.stream && (state?.store || state?.previousId) ? { event: onEvent } : undefined
  }
}

/**
 * The `call` hook (outermost: after every fallback and retry inside it): keeps a JSON response to store, and has
 * a continued request's response name the previous one.
 */
export function createCallCapture(store: ResponseStore) {
  return function callCapture(ctx: RequestContext, attempt: Attempt, next: CallNext): Promise<ProviderResponse> {
    const state = stateOf(ctx)
    if (!state?.store && !state?.previousId) return next(attempt) // nothing to do: no extra promise on the way
    return next(attempt).then((result) => {
      if (state.previousId) echoInResult(ctx, result, state.previousId)
      if (state.store && !result.stream && !result.deltas) {
        state.result = result
        state.finishWrite ??= store.beginWrite()
      }
      return result
    })
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The response object a JSON answer gave the client. */
function responseOf(result: ProviderResponse, ctx: RequestContext): Item | undefined {
  if (result.format === 'openai-responses' && !result.output) {
    // The untouched text when the body went out as received (reading `text` does not mark the body as edited).
    const text = result.text
    const body = text !== undefined ? parsed(text) : result.body
    return isItem(body) && Array.isArray(body.output) ? body : undefined
  }
  // As the gateway encoded it (core/exchange.ts): same request id, model and request, so the same ids.
  const created = ctx.firstByteAt === undefined ? undefined : Math.floor(ctx.firstByteAt / 1000)
  const info: TranslateInfo = { model: ctx.model, id: ctx.id, request: ctx.body, created }
  const encoded = codecFor('openai-responses').encodeResponse!(readOutput(result, info), info)
  return isItem(encoded) ? encoded : undefined
}

/** The `record` hook: writes a successful response, with the input its model saw, and indexes its items. */
export function createRecorder(store: ResponseStore) {
  return async function keepResponse(record: RequestRecord, ctx: RequestContext): Promise<void> {
    const state = stateOf(ctx)
    if (!state?.finishWrite) return
    try {
      if (record.status !== 200 || record.outcome !== 'ok') return
      const response = state.final ?? (state.result && responseOf(state.result, ctx))
      if (!response || !isStorableId(response.id)) return
      // The continuation was written out of the request before any upstream saw it: say which it was, as OpenAI does.
      const kept = { ...response, previous_response_id: state.previousId ?? null }
      const input = inputItems(ctx.body.input).filter(isItem)
      const ownItems = input.slice(state.historyLength)
      await store.save(response.id, { owner: state.owner, response: kept, input }, [...outputItems(kept), ...ownItems], record.endedAt)
    } finally {
      state.finishWrite()
    }
  }
}
