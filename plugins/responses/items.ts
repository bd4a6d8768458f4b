/** Input items as the Responses API reads them, and as `input_items` lists them. */
import { GatewayError } from '../../core/index.ts'
import type { Item } from './store.ts'

export function isItem(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A request's `input` as a list of items: a bare string is one user message. Entries that are not items are kept,
 * so that whoever reads the request next (a codec, the upstream) refuses them as it would have.
 */
export function inputItems(input: unknown): Item[] {
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }]
  return Array.isArray(input) ? input : []
}

export function hasItemReference(input: unknown): boolean {
  return Array.isArray(input) && input.some((item) => isItem(item) && item.type === 'item_reference')
}

/** The output items of a response object. */
export function outputItems(response: Item): Item[] {
  return Array.isArray(response.output) ? response.output.filter(isItem) : []
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError(400, message, { type: 'invalid_request_error', param })
}

/** Clips a client-given id for a message (it is JSON-escaped there; this only keeps messages short). */
export function shown(id: unknown): string {
  const text = String(id)
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

/**
 * Replaces each `item_reference` with the stored item. A reference to a reasoning item that cannot be resolved is
 * dropped — the AI SDK sends those for reasoning it expects OpenAI to have kept (its default `store`), and the
 * conversation reads the same without it; any other unresolvable reference is the client's error.
 */
export async function resolveReferences(items: Item[], lookup: (id: unknown) => Promise<Item | undefined>): Promise<Item[]> {
  const resolved = await Promise.all(items.map(async (item, index) => {
    if (!isItem(item) || item.type !== 'item_reference') return item
    const found = await lookup(item.id)
    if (found) return found
    if (typeof item.id === 'string' && item.id.startsWith('rs_')) return undefined
    throw invalid(`input[${index}]: item_reference '${shown(item.id)}' names no item this gateway keeps for you (unknown, expired or deleted).`, 'input')
  }))
  return resolved.filter((item): item is Item => item !== undefined)
}

// ---- input_items ----

const ID_PREFIX: Record<string, string> = { message: 'msg', function_call: 'fc', function_call_output: 'fco', reasoning: 'rs' }

/**
 * An input item as `GET /v1/responses/{id}/input_items` shows it: typed, with an id (items sent without one get
 * a stable one derived from the response id and position, as the listing's cursor needs), and message text as
 * content parts, the way OpenAI lists them.
 */
export function listedItem(item: Item, index: number, responseId: string): Item {
  const type = typeof item.type === 'string' ? item.type : 'message'
  const id = typeof item.id === 'string' ? item.id : `${ID_PREFIX[type] ?? 'item'}_${responseId.replace(/^resp_/, '')}_in${index}`
  const listed: Item = { id, ...item, type }
  if (type === 'message') {
    if (typeof item.content === 'string') listed.content = [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }]
    listed.status ??= 'completed'
  }
  return listed
}

export interface ListQuery {
  limit: number
  order: 'asc' | 'desc'
  after?: string
}

/** Reads `limit` (1–100, default 20), `order` (`asc`, default `desc`) and `after` (an item id) from a query. */
export function listQuery(params: URLSearchParams): ListQuery {
  const limitText = params.get('limit')
  const limit = limitText === null ? 20 : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('limit must be an integer from 1 to 100', 'limit')
  const order = params.get('order') ?? 'desc'
  if (order !== 'asc' && order !== 'desc') throw invalid("order must be 'asc' or 'desc'", 'order')
  const after = params.get('after') ?? undefined
  return { limit, order, after }
}

/** One page of a list of items with ids, in the API's list shape. */
export function listPage(items: Item[], query: ListQuery) {
  const ordered = query.order === 'asc' ? items : [...items].reverse()
  let start = 0
  if (query.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === query.after)
    if (at === -1) throw invalid(`after: no item '${shown(query.after)}' in this list`, 'after')
    start = at + 1
  }
  const data = ordered.slice(start, start + query.limit)
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + query.limit < ordered.length }
}
