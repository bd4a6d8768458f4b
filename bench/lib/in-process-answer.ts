/**
 * The bench mock's answer served in process: a provider plugin (`mock/bench`) whose `call` returns the mock's JSON
 * body, or its SSE stream as the three chunks the mock's socket delivers, with no socket at all. The in-process
 * benches (micro-pipeline, micro-otel) measure the gateway's own code against it. Imports only `definePlugin`, so it
 * runs on older commits too (copy it along with the bench for an A/B).
 */
import { definePlugin } from '../../core/index.ts'

const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const usageChunk = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } })}\n\n`
// As the mock's socket delivers them: the first event, the words, then the end, in three chunks.
const streamChunks = [
  Buffer.from(chunk({ role: 'assistant', content: '' }, null)),
  Buffer.from('The quick brown fox jumps over the lazy dog .'.split(' ').map((w) => chunk({ content: w + ' ' }, null)).join('')),
  Buffer.from(chunk({}, 'stop') + usageChunk + 'data: [DONE]\n\n'),
]
const text = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'bench', choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } })

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (const c of streamChunks) yield c
}

/** The provider `mock`; `baseURL` only names where a real one would be (some plugins read it for attributes). */
export const inProcessMock = definePlugin((baseURL = 'http://127.0.0.1:9/v1') => ({
  name: 'mock',
  options: { baseURL },
  setup(gw: any) {
    gw.registerProvider({
      name: 'mock',
      formats: ['openai-chat'],
      async call(request: any) {
        const headers = new Headers({ 'content-type': request.stream ? 'text/event-stream' : 'application/json' })
        return request.stream
          ? { status: 200, headers, format: 'openai-chat', stream: chunks() }
          : { status: 200, headers, format: 'openai-chat', body: JSON.parse(text), text }
      },
    })
  },
}))
