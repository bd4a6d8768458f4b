/**
 * A response object repeats the request's `previous_response_id`, and clients read it back (the `openai` SDK's
 * `response.previous_response_id`). The continuation took the field out of the request before any upstream saw
 * it, so the response the client gets is given it back:
 *
 * - once the call chain is done, `ctx.body` has it again: the Responses codec echoes the body when it encodes a
 *   translated answer, JSON or stream (no upstream body is built after that point);
 * - an OpenAI Responses upstream's own JSON body gets it set;
 * - an OpenAI Responses upstream's own stream gets it in each lifecycle event (`response.created`, …,
 *   `response.completed`): a few events per stream, parsed only for continued requests.
 */
import { sseEvent } from '../../core/index.ts'
import type { ProviderResponse, RequestContext, SSEEvent } from '../../core/index.ts'
import { isItem } from './items.ts'

const LIFECYCLE_EVENTS = new Set(['response.created', 'response.in_progress', 'response.queued', 'response.completed', 'response.incomplete', 'response.failed'])
// Only for servers that send no `event:` line. Quotes inside model text arrive escaped (\"), so it cannot match text.
const LIFECYCLE_TYPE = /"type"\s*:\s*"response\.(?:created|in_progress|queued|completed|incomplete|failed)"/

/** Whether an event carries the whole response object (its lifecycle events do); no JSON parse. */
export function isLifecycleEvent(event: SSEEvent): boolean {
  return event.event ? LIFECYCLE_EVENTS.has(event.event) : LIFECYCLE_TYPE.test(event.data)
}

/** After the call chain: the body the gateway echoes, and an upstream's own JSON response, name the previous id. */
export function echoInResult(ctx: RequestContext, result: ProviderResponse, previousId: string): void {
  ctx.body = { ...ctx.body, previous_response_id: previousId }
  if (result.format !== 'openai-responses' || result.output || result.stream || result.deltas) return
  const body = result.body
  if (isItem(body) && body.previous_response_id !== previousId) body.previous_response_id = previousId
}

/** A lifecycle event whose response names `previousId` (the event itself when it already does). */
export function echoInEvent(event: SSEEvent, previousId: string): SSEEvent {
  const json = event.json
  if (!isItem(json) || !isItem(json.response) || json.response.previous_response_id === previousId) return event
  return sseEvent(JSON.stringify({ ...json, response: { ...json.response, previous_response_id: previousId } }), event.event)
}
