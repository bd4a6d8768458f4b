/**
 * otel() in process: `gateway.fetch` of a chat request onto an in-process provider (as bench/micro-pipeline.ts),
 * once without otel() and once with it exporting to a no-op OTLP receiver in this process, in interleaved rounds.
 * CPU per request of each (the receiver's own work included in `otel`), their difference and ratio — far steadier
 * on a busy machine than bench/otel.ts, and what `node --cpu-prof` is pointed at to see where the time goes.
 *
 * With `--base <path of another checkout's plugins/otel/index.ts>`, a third gateway runs that version of the
 * plugin in the same rounds, for a before/after A/B in one process (`otel ÷ base`).
 *
 *   node --import jiti/register bench/micro-otel.ts [stream|json] [requests] [rounds] [--base ../main/plugins/otel/index.ts]
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { createGateway, definePlugin } from '../core/index.ts'
import { inProcessMock } from './lib/in-process-answer.ts'
import { otel } from '../plugins/otel/index.ts'

const baseAt = process.argv.indexOf('--base')
const basePath = baseAt > 0 ? process.argv[baseAt + 1] : undefined
const args = baseAt > 0 ? process.argv.filter((_, i) => i !== baseAt && i !== baseAt + 1) : process.argv
const mode = args[2] === 'json' ? 'json' : 'stream'
const requests = Number(args[3] ?? 5_000)
const rounds = Number(args[4] ?? 7)

/** Reads the otel service's counters at the end (that the spans really went out). */
const probe: { gw?: any } = {}
const probePlugin = definePlugin(() => ({ name: 'probe', setup(gw: any) { probe.gw = gw } }))

const payload = JSON.stringify({ model: 'mock/bench', stream: mode === 'stream', messages: [{ role: 'user', content: 'x' }] })

type Gateway = Awaited<ReturnType<typeof createGateway>>

async function once(gateway: Gateway): Promise<void> {
  const response = await gateway.fetch(new Request('http://127.0.0.1/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', host: '127.0.0.1' }, body: payload }))
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`)
  await response.arrayBuffer()
}

async function round(gateway: Gateway): Promise<number> {
  const before = process.cpuUsage()
  for (let i = 0; i < requests; i++) {
    await once(gateway)
    // gateway.fetch onto an in-process provider never leaves the microtask queue: let timers and I/O run
    // (record hooks, the batch processor's timer, the exporter's sockets) as they would between network reads.
    if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve))
  }
  const used = process.cpuUsage(before)
  return (used.user + used.system) / requests
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function main() {
  let exports = 0
  let spans = 0
  const receiver = createServer((req, res) => {
    let size = 0
    req.on('data', (data: Buffer) => { size += data.length })
    req.on('end', () => {
      exports++
      spans += size > 0 ? 1 : 0
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  const off = await createGateway({ storage: { driver: 'memory' }, logLevel: 'silent', plugins: [inProcessMock()] } as any)
  const on = await createGateway({ storage: { driver: 'memory' }, logLevel: 'silent', plugins: [inProcessMock(), otel({ endpoint, scheduledDelayMs: 200 }), probePlugin()] } as any)
  const baseOtel = basePath ? ((await import(resolve(basePath))) as typeof import('../plugins/otel/index.ts')).otel : undefined
  const base = baseOtel ? await createGateway({ storage: { driver: 'memory' }, logLevel: 'silent', plugins: [inProcessMock(), baseOtel({ endpoint, scheduledDelayMs: 200 })] } as any) : undefined
  for (let i = 0; i < 2_000; i++) { // warm-up (JIT)
    await once(off)
    await once(on)
    if (base) await once(base)
    if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve))
  }
  const offs: number[] = []
  const ons: number[] = []
  const bases: number[] = []
  for (let r = 0; r < rounds; r++) {
    offs.push(await round(off))
    if (base) bases.push(await round(base))
    ons.push(await round(on))
  }
  const [a, b] = [median(offs), median(ons)]
  console.log(`${mode}, ${rounds} rounds × ${requests}: off ${offs.map((v) => v.toFixed(1)).join(' ')}; otel ${ons.map((v) => v.toFixed(1)).join(' ')} µs CPU/request`)
  console.log(`  median off ${a.toFixed(1)} µs, otel ${b.toFixed(1)} µs: otel costs ${(b - a).toFixed(1)} µs/request, otel ÷ off = ${(b / a).toFixed(2)}  (${exports} exports received)`)
  if (base) {
    const c = median(bases)
    const pairs = bases.map((v, i) => ons[i]! / v)
    console.log(`  base ${bases.map((v) => v.toFixed(1)).join(' ')}: median ${c.toFixed(1)} µs, costs ${(c - a).toFixed(1)} µs/request; otel ÷ base = ${(b / c).toFixed(2)} (per-round ratios ${pairs.map((v) => v.toFixed(2)).join(' ')}, median ${median(pairs).toFixed(2)})`)
    await base.close()
  }
  console.log(`  otel stats: ${JSON.stringify(probe.gw?.inject('otel')?.stats())}`)
  await off.close()
  await on.close()
  receiver.close()
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
