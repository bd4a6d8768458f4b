/**
 * The pipeline alone, in process: `gateway.fetch` of a chat request onto an in-process provider that answers the
 * bench mock's answer (a JSON body, or its SSE stream as the same chunks the mock writes), N times, reading each
 * body to its end. No sockets, no HTTP parser, no other process: CPU time per request of the gateway's own code
 * (pipeline, exchange, pump, plugins), far steadier on a busy machine than a load test. Runs on any commit that
 * has `createGateway` and provider plugins (copy it with bench/lib/in-process-answer.ts for an A/B across commits).
 *
 *   node --import jiti/register bench/micro-pipeline.ts [stream|json] [requests] [rounds]
 */
import { createGateway } from '../core/index.ts'
import { inProcessMock } from './lib/in-process-answer.ts'

const mode = process.argv[2] === 'json' ? 'json' : 'stream'
const requests = Number(process.argv[3] ?? 20_000)
const rounds = Number(process.argv[4] ?? 5)

const payload = JSON.stringify({ model: 'mock/bench', stream: mode === 'stream', messages: [{ role: 'user', content: 'x' }] })

async function once(gateway: { fetch(request: Request): Promise<Response> }): Promise<void> {
  const response = await gateway.fetch(new Request('http://127.0.0.1/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', host: '127.0.0.1' }, body: payload }))
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`)
  await response.arrayBuffer()
}

async function main() {
  const gateway = await createGateway({ storage: { driver: 'memory' }, logLevel: 'silent', plugins: [inProcessMock()] } as any)
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
