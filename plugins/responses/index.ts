/**
 * `responses()`: conversation state for the OpenAI Responses API, on any provider.
 *
 * - `store` (true unless the client sends `false`, as the API does) keeps each response — the response object the
 *   client got, the input items its model saw — in the gateway's storage for `ttlSeconds`, owned by the caller.
 * - `previous_response_id` and `item_reference` are written out into the request before routing, so the
 *   conversation continues on OpenAI, Anthropic, Gemini or anything else, and on every replica sharing the storage.
 * - `GET` / `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`, behind the gateway's auth.
 *
 *   plugins: [openai({ ... }), anthropic({ ... }), responses({ ttlSeconds: 7 * 86_400 })]
 */
import { definePlugin } from '../../core/index.ts'
import type { PluginContext, SluicePlugin } from '../../core/index.ts'
import { createCallCapture, createRecorder, createStreamCapture } from './capture.ts'
import { createContinuation } from './continuation.ts'
import { parseResponsesOptions, type ResponsesOptions } from './options.ts'
import { mountResponseRoutes } from './routes.ts'
import { ResponseStore } from './store.ts'

export type { ResponsesOptions }

export const responses = definePlugin((input: ResponsesOptions = {}): SluicePlugin => {
  const settings = parseResponsesOptions(input)
  return {
    name: 'responses',
    // First in `route`: the conversation is written out before the router plans it and before any translation.
    // Outermost in `call`: the response it keeps is the one every fallback and retry inside ended with.
    enforce: 'pre',
    options: { ...settings },
    setup(gw: PluginContext) {
      const store = new ResponseStore(gw.storage, gw.clock, settings.ttlSeconds)
      mountResponseRoutes(gw, store)
      // Last among stream transforms (registered once every plugin is set up), so the final event it keeps is the
      // one the client gets, after any other plugin's transform.
      gw.onReady(() => { gw.hook('stream', createStreamCapture(store)) })
      return {
        hooks: {
          route: createContinuation(store),
          call: createCallCapture(store),
          record: createRecorder(store),
        },
      }
    },
  }
})
