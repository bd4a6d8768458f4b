/** A request context built directly, for testing one hook: the same class the pipeline hands hooks. */
import { Context } from '../core/context.ts'
import type { InboundApi, Principal, Target } from '../core/index.ts'

export interface TestContextInit {
  api?: InboundApi
  model?: string
  /** The parsed body (defaults to a one-message chat request for `model`). */
  body?: Record<string, unknown>
  stream?: boolean
  /** Request headers (e.g. `authorization`). */
  headers?: Record<string, string>
  principal?: Principal
  plan?: Target[]
  signal?: AbortSignal
  /** Epoch ms the request started. */
  now?: number
  id?: string
}

let sequence = 0

export function testContext(init: TestContextInit = {}): Context {
  const api = init.api ?? 'openai-chat'
  const model = init.model ?? 'scripted/model'
  const body = init.body ?? { model, messages: [{ role: 'user', content: 'hello' }], ...(init.stream ? { stream: true } : {}) }
  const path = api === 'anthropic-messages' ? '/v1/messages' : api === 'openai-embeddings' ? '/v1/embeddings' : '/v1/chat/completions'
  const request = new Request(`http://sluice.test${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify(body),
  })
  const loaded = async () => {}
  const ctx = new Context(init.id ?? `req_test_${++sequence}`, request, api, init.signal ?? new AbortController().signal, init.now ?? Date.now(), loaded)
  ctx.body = body
  ctx.model = typeof body.model === 'string' ? body.model : model
  ctx.stream = init.stream ?? body.stream === true
  ctx.principal = init.principal
  ctx.plan = init.plan ?? []
  return ctx
}
