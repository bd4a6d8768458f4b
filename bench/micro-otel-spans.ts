/**
 * The otel plugin's span work alone, no gateway: one request's RequestTrace (SERVER span, one CLIENT attempt with
 * its traceparent, a streamed answer's deltas observed, the record's attributes, both spans ended into the
 * bounded queue and a no-op exporter) N times; CPU µs per request. `--encode`: the exporter encodes each batch
 * as OTLP JSON (what the real one sends), without sending it. With `--base <another checkout's
 * plugins/otel>` that version runs in the same interleaved rounds (`new ÷ base`).
 *
 *   node --import jiti/register bench/micro-otel-spans.ts [requests] [rounds] [--encode] [--base tmp-base/plugins/otel]
 */
import { resolve } from 'node:path'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'

const baseAt = process.argv.indexOf('--base')
const basePath = baseAt > 0 ? process.argv[baseAt + 1] : undefined
const encode = process.argv.includes('--encode')
const args = (baseAt > 0 ? process.argv.filter((_, i) => i !== baseAt && i !== baseAt + 1) : process.argv).filter((arg) => arg !== '--encode')
const requests = Number(args[2] ?? 20_000)
const rounds = Number(args[3] ?? 9)

type Run = () => void
const dropped: Array<() => number> = []

async function setup(dir: string): Promise<Run> {
  const { RequestTrace } = await import(`${dir}/trace.ts`)
  const { createTracerProvider } = await import(`${dir}/export.ts`)
  const { parseOtelOptions } = await import(`${dir}/options.ts`)
  const { OtelStats } = await import(`${dir}/stats.ts`)
  const { providerNameOf } = await import(`${dir}/semconv.ts`)
  const stats = new OtelStats(Date.now())
  const noop = {
    export: (spans: any[], done: (r: { code: number }) => void) => {
      if (encode) JsonTraceSerializer.serializeRequest(spans)
      done({ code: 0 })
    },
    shutdown: async () => {},
  }
  const provider = createTracerProvider(parseOtelOptions({}), stats, noop)
  dropped.push(() => stats.snapshot().dropped.queue_full)
  const info = { name: 'openai', host: 'api.openai.com', port: 443, genAiName: providerNameOf('openai', 'api.openai.com') }
  const settings = { tracer: provider.getTracer('sluice'), now: () => Date.now(), captureContent: false, maxContentChars: 1000, provider: () => info }
  const request = new Request('http://127.0.0.1/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' } })
  const body = { model: 'gpt-4o', stream: true, temperature: 0.2, max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }
  const target = { provider: 'openai', model: 'gpt-4o' }
  const deltas = [
    { type: 'start', id: 'chatcmpl-1', model: 'gpt-4o-2024' },
    ...'The quick brown fox jumps over the lazy dog .'.split(' ').map((w) => ({ type: 'text', text: w })),
    { type: 'finish', reason: 'stop' },
    { type: 'done' },
  ]
  return () => {
    const now = Date.now()
    const ctx = { id: 'req_1', api: 'openai-chat', request, body, stream: true, startedAt: now, state: {} as Record<string, unknown> }
    const trace = new RequestTrace(ctx, settings)
    const started = trace.startAttempt({ number: 1, target, headers: { authorization: 'Bearer x' } })
    trace.answered(started.span, 200)
    for (const delta of deltas) trace.observe(delta)
    trace.finish({
      id: 'req_1', startedAt: now, endedAt: Date.now(), api: 'openai-chat', stream: true, requestedModel: 'gpt-4o', provider: 'openai',
      upstreamModel: 'gpt-4o', status: 200, outcome: 'ok', usage: { inputTokens: 12, outputTokens: 10 }, latencyMs: 1, attempts: 1, costUSD: 0.001,
    })
  }
}

async function round(run: Run): Promise<number> {
  const before = process.cpuUsage()
  for (let i = 0; i < requests; i++) {
    run()
    // Let the batch processor export (its flush runs off this stack) before its queue fills and drops spans.
    if (i % 128 === 127) await new Promise((done) => setImmediate(done))
  }
  const used = process.cpuUsage(before)
  return (used.user + used.system) / requests
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function main() {
  const current = await setup(resolve('plugins/otel'))
  const base = basePath ? await setup(resolve(basePath)) : undefined
  await round(current)
  if (base) await round(base)
  const a: number[] = []
  const b: number[] = []
  for (let r = 0; r < rounds; r++) {
    if (base) b.push(await round(base))
    a.push(await round(current))
  }
  console.log(`spans${encode ? ' + OTLP JSON encoding' : ''}: ${rounds} rounds × ${requests}: this ${a.map((v) => v.toFixed(1)).join(' ')} µs/request, median ${median(a).toFixed(1)}`)
  console.log(`  spans dropped for a full queue: ${dropped.map((count) => count()).join(', ')} (should be 0)`)
  if (base) {
    const ratios = a.map((v, i) => v / b[i]!)
    console.log(`  base ${b.map((v) => v.toFixed(1)).join(' ')}, median ${median(b).toFixed(1)}; this ÷ base ${(median(a) / median(b)).toFixed(2)} (per-round median ${median(ratios).toFixed(2)})`)
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
