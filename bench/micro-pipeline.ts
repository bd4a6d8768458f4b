/**
 * The pipeline alone, in process: `gateway.fetch` of a chat request onto an in-process provider that answers the
 * bench mock's answer (a JSON body, or its SSE stream as the same chunks the mock writes), N times, reading each
 * body to its end. No sockets, no HTTP parser, no other process: CPU time per request of the gateway's own code
 * (pipeline, exchange, pump, plugins), far steadier on a busy machine than a load test. Runs on any commit that
 * has `createGateway` and provider plugins (so `bench/compare.sh`-style A/B runs work across the contract change).
 *
 *   node --import jiti/register bench/micro-pipeline.ts [stream|json] [requests] [rounds]
 */
import { createGateway, definePlugin } from '../core/index.ts'

const mode = process.argv[2] === 'json' ? 'json' : 'stream'
const requests = Number(process.argv[3] ?? 20_000)
const rounds = Number(process.argv[4] ?? 5)

const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const usageChunk = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } })}\n\n`
// As the mock's socket delivers them: the first event, the words, then the end, in three chunks.
const streamChunks = [
  Buffer.from(chunk({ role: 'assistant', content: '' }, null)),
  Buffer.from('The quick brown fox jumps over the lazy dog .'.split(' ').map((w) => chunk({ content: w + ' ' }, null)).join('')),
  Buffer.from(chunk({}, 'stop') + usageChunk + 'data: [DONE]\n\n'),
]
const body = { id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'bench', choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } }
const text = JSON.stringify(body)

async function* chunks(): AsyncGenerator<Uint8Array> {
  for (const c of streamChunks) yield c
}

const bench = definePlugin(() => ({
  name: 'mock',
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

const payload = JSON.stringify({ model: 'mock/bench', stream: mode === 'stream', messages: [{ role: 'user', content: 'x' }] })

async function once(gateway: { fetch(request: Request): Promise<Response> }): Promise<void> {
  const response = await gateway.fetch(new Request('http://127.0.0.1/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', host: '127.0.0.1' }, body: payload }))
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`)
  await response.arrayBuffer()
}

async function main() {
  const gateway = await createGateway({ storage: { driver: 'memory' }, logLevel: 'silent', plugins: [bench()] } as any)
  for (let i = 0; i < 2_000; i++) await once(gateway) // warm-up (JIT)
  const perRequest: number[] = []
  for (let round = 0; round < rounds; round++) {
    const before = process.cpuUsage()
    for (let i = 0; i < requests; i++) await once(gateway)
    const used = process.cpuUsage(before)
    perRequest.push((used.user + used.system) / requests)
  }
  const sorted = [...perRequest].sort((a, b) => a - b)
  console.log(`${mode}: ${perRequest.map((v) => v.toFixed(1)).join(' ')} µs CPU/request; median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)}`)
  await gateway.close()
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
