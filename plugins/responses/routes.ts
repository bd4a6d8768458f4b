/**
 * The stored-response endpoints of the Responses API, behind the same auth as model calls (the core's `auth`
 * phase, through `gw.authorize`), each caller seeing only its own responses:
 *
 *   GET    /v1/responses/{id}               the response object
 *   DELETE /v1/responses/{id}               { id, object: 'response', deleted: true }
 *   GET    /v1/responses/{id}/input_items   the input items, paged: limit, order, after
 */
import { getRouterParam, type H3Event } from 'h3'
import { errorBody, GatewayError } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import { listedItem, listPage, listQuery, shown } from './items.ts'
import type { ResponseStore, StoredResponse } from './store.ts'

type Handler = (event: H3Event, owner: string | null, id: string) => Promise<unknown>

function errorResponse(error: GatewayError): Response {
  const body = errorBody('openai-responses', { status: error.status, message: error.message, type: error.type ?? 'invalid_request_error', code: error.code ?? null, param: error.param ?? null })
  return Response.json(body, { status: error.status })
}

function notFound(id: string): GatewayError {
  return new GatewayError(404, `Response with id '${shown(id)}' not found.`, { type: 'invalid_request_error', param: 'response_id', code: 'response_not_found' })
}

export function mountResponseRoutes(gw: Pick<PluginContext, 'app' | 'authorize'>, store: ResponseStore): void {
  /** Auth first (in the Responses error shape), then the handler; a GatewayError it throws is answered in that shape. */
  const route = (handler: Handler) => async (event: H3Event): Promise<unknown> => {
    const { principal, error } = await gw.authorize(event.req, 'openai-responses')
    if (error) return error
    try {
      return await handler(event, principal?.id ?? null, getRouterParam(event, 'id') ?? '')
    } catch (thrown) {
      if (GatewayError.is(thrown)) return errorResponse(thrown)
      throw thrown
    }
  }

  const found = async (id: string, owner: string | null): Promise<StoredResponse> => {
    const stored = await store.getResponse(id, owner)
    if (!stored) throw notFound(id)
    return stored
  }

  gw.app.get('/v1/responses/:id', route(async (_event, owner, id) => (await found(id, owner)).response))

  gw.app.delete('/v1/responses/:id', route(async (_event, owner, id) => {
    if (!(await store.remove(id, owner))) throw notFound(id)
    return { id, object: 'response', deleted: true }
  }))

  gw.app.get('/v1/responses/:id/input_items', route(async (event, owner, id) => {
    const query = listQuery(event.url.searchParams)
    const stored = await found(id, owner)
    return listPage(stored.input.map((item, index) => listedItem(item, index, id)), query)
  }))
}
