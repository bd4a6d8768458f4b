/**
 * What guardrails() add to a streamed reply, against the same gateway without them, in the same run:
 *
 *   - time to first token (the first non-empty content event the client reads), with the upstream sending one
 *     token-sized delta every DELAY ms, as a difference to guardrails off and in upstream deltas;
 *   - the most text held back at any moment (upstream characters sent minus characters the client has read),
 *     against the window the rules allow (the longest match their detectors may hold);
 *   - CPU per streamed request (upstream without delays), as a difference and a ratio.
 *
 *   node --import jiti/register bench/guardrails.ts [--runs 40] [--delay 10]
 *
 * In process (the testing kit's gateway, no sockets): what is measured is the gateway's own work and what it
 * holds back, not loopback HTTP. Each scenario is measured in alternating rounds so drift hits all alike.
 */
import { performance } from 'node:perf_hooks'
import { createTestGateway, type TestGateway } from '../testing/index.ts'
import { definePlugin } from '../core/index.ts'
import type { ProviderRequest, ProviderResponse, SluicePlugin, StreamDelta } from '../core/index.ts'
import { guardrails, type GuardrailRule } from '../plugins/guardrails/index.ts'
import { RuleSets } from '../plugins/guardrails/rule-sets.ts'
import { parseGuardrailsOptions } from '../plugins/guardrails/options.ts'

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? Number(process.argv[at + 1]) : fallback
}
const RUNS = arg('runs', 40)
const DELAY = arg('delay', 10)
const CPU_RUNS = arg('cpu-runs', 400)

const PROSE = 'Hello there! Here is the summary you asked for. Revenue grew twelve percent in the third quarter, '
  + 'driven by the new subscription tier; churn fell to two percent. The team recommends keeping the current '
  + 'pricing, expanding the sales team in Europe, and revisiting the roadmap in January. Let me know if you '
  + 'want the detailed tables, the charts, or a shorter version for the board.'
/** The same reply with personal data and a key in it, to be redacted on the way. */
const SECRETS = 'Hello there! Mail the report to jane.doe@example.com and call +44 20 7946 0958 if anything is unclear. '
  + 'The staging key is sk-proj-abcdefghijklmnop1234 and the card on file is 4111 1111 1111 1111. ' + PROSE

/** Token-sized pieces as models send them: a word with its leading space, long words cut at 6 characters. */
function tokens(text: string): string[] {
  return text.split(/(?=\s)/).flatMap((word) => word.match(/.{1,6}/gs) ?? [])
}

/**
 * What the upstream has sent and the client has read so far (one request at a time, in one process). Before each
 * delta the upstream samples `sent - received`: by then the gateway has handled the previous one and the client
 * has read whatever it released, so the difference is what the gateway holds back.
 */
let sent = 0
let sentDeltas = 0
let received = 0
let held: number[] = []
const upstream = definePlugin((delayMs: number): SluicePlugin => ({
  name: 'up',
  setup(gw) {
    gw.registerProvider({
      name: 'up',
      formats: ['openai-chat'],
      async call(request: ProviderRequest): Promise<ProviderResponse> {
        const text = request.target.model === 'secrets' ? SECRETS : PROSE
        async function* deltas(): AsyncGenerator<StreamDelta> {
          sent = sentDeltas = 0
          yield { type: 'start', id: 'bench', model: request.target.model }
          for (const piece of tokens(text)) {
            if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
            if (sentDeltas > 0) held.push(sent - received)
            sent += piece.length
            sentDeltas++
            yield { type: 'text', text: piece }
          }
          yield { type: 'usage', usage: { inputTokens: 20, outputTokens: 80 } }
          yield { type: 'finish', reason: 'stop' }
        }
        return { status: 200, headers: new Headers(), format: 'openai-chat', deltas: deltas() }
      },
    })
  },
}))

const SCENARIOS: Record<string, GuardrailRule[] | undefined> = {
  'off': undefined,
  'secrets (block)': [{ type: 'secrets', action: 'block' }],
  'secrets + pii + denylist (redact)': [
    { type: 'secrets', action: 'redact' },
    { type: 'pii', action: 'redact' },
    { type: 'denylist', words: ['Project Bluebird', 'internal only'], action: 'redact' },
  ],
}

/** The window the rules allow: the longest match any of their detectors may hold back. */
function windowOf(rules: GuardrailRule[] | undefined): number {
  if (!rules) return 0
  const sets = new RuleSets(parseGuardrailsOptions({ rules }), { getProvider: () => undefined } as any)
  return Math.max(0, ...sets.all.flatMap((set) => set.output?.detectors ?? []).map((d) => d.maxLength))
}

interface Run { ttft: number; firstAfter: number; maxHeld: number; meanHeld: number; text: string }

/** One streamed request: time to the first content, the upstream deltas it took, what was held back, the text. */
async function streamOnce(gw: TestGateway, model: string): Promise<Run> {
  const started = performance.now()
  const response = await gw.chat({ model: `up/${model}`, stream: true, messages: [{ role: 'user', content: 'Summarise the report.' }] })
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let text = ''
  let ttft = -1
  let firstAfter = 0
  received = 0
  held = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer.slice(6, end)
      buffer = buffer.slice(end + 2)
      if (!data.startsWith('{')) continue
      const content = JSON.parse(data).choices?.[0]?.delta?.content
      if (!content) continue
      if (ttft < 0) {
        ttft = performance.now() - started
        firstAfter = sentDeltas
      }
      text += content
      received = text.length // redactions change lengths: only the secrets-free reply reads true
    }
  }
  return { ttft, firstAfter, maxHeld: Math.max(0, ...held), meanHeld: held.reduce((a, b) => a + b, 0) / Math.max(1, held.length), text }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)]!

async function gatewayFor(rules: GuardrailRule[] | undefined, delayMs: number): Promise<TestGateway> {
  return createTestGateway({ plugins: [upstream(delayMs), ...(rules ? [guardrails({ rules })] : [])] })
}

async function main() {
  console.log(`guardrails bench: ${RUNS} streamed requests per scenario, one upstream delta every ${DELAY} ms, ${tokens(PROSE).length} deltas of ~6 chars`)
  const names = Object.keys(SCENARIOS)
  const gateways = await Promise.all(names.map((name) => gatewayFor(SCENARIOS[name], DELAY)))
  const runs = new Map<string, Run[]>(names.map((name) => [name, []]))
  for (let round = 0; round < RUNS; round++) {
    for (const [i, name] of names.entries()) runs.get(name)!.push(await streamOnce(gateways[i]!, 'prose'))
  }
  const off = median(runs.get('off')!.map((r) => r.ttft))
  console.log('\n| scenario | TTFT median | p90 | added vs off | first token after (deltas) | held back: mean / most | bound (longest rule) |')
  console.log('|---|---|---|---|---|---|---|')
  for (const name of names) {
    const list = runs.get(name)!
    const ttft = median(list.map((r) => r.ttft))
    const most = Math.max(...list.map((r) => r.maxHeld))
    const mean = list.reduce((sum, r) => sum + r.meanHeld, 0) / list.length
    const after = median(list.map((r) => r.firstAfter))
    if (list.some((r) => r.text !== PROSE)) throw new Error(`${name}: the reply changed: ${JSON.stringify(list.find((r) => r.text !== PROSE)!.text.slice(0, 200))}`)
    if (most > Math.max(windowOf(SCENARIOS[name]), 0)) console.log(`!! ${name}: held ${most} characters, past the rules' window`)
    console.log(`| ${name} | ${ttft.toFixed(2)} ms | ${p90(list.map((r) => r.ttft)).toFixed(2)} ms | ${(ttft - off).toFixed(2)} ms (${((ttft - off) / DELAY).toFixed(2)} × delay) | ${after} | ${mean.toFixed(1)} / ${most} chars | ${windowOf(SCENARIOS[name])} chars |`)
  }
  // The reply with secrets: redacted, and what it costs in time to first token.
  const redacting = gateways[names.indexOf('secrets + pii + denylist (redact)')]!
  const withSecrets: Run[] = []
  for (let round = 0; round < Math.min(RUNS, 10); round++) withSecrets.push(await streamOnce(redacting, 'secrets'))
  const sample = withSecrets[0]!.text
  console.log(`\nreply with an e-mail, a phone, a key and a card: TTFT median ${median(withSecrets.map((r) => r.ttft)).toFixed(2)} ms; leaked: ${/jane|7946|sk-proj|4111/.test(sample) ? 'YES' : 'nothing'}`)
  console.log(`  client got: ${sample.slice(0, 150)}…`)
  await Promise.all(gateways.map((gw) => gw.close()))

  // CPU per streamed request with no upstream delay.
  const fast = await Promise.all(names.map((name) => gatewayFor(SCENARIOS[name], 0)))
  const cpu = new Map<string, number[]>(names.map((name) => [name, []]))
  for (const [i] of names.entries()) for (let n = 0; n < 50; n++) await streamOnce(fast[i]!, 'prose') // warm-up
  for (let round = 0; round < 5; round++) {
    for (const [i, name] of names.entries()) {
      const before = process.cpuUsage()
      for (let n = 0; n < CPU_RUNS / 5; n++) await streamOnce(fast[i]!, 'prose')
      const used = process.cpuUsage(before)
      cpu.get(name)!.push((used.user + used.system) / (CPU_RUNS / 5))
    }
  }
  const base = median(cpu.get('off')!)
  const deltas = tokens(PROSE).length
  console.log(`\n| scenario | CPU per streamed request | added | per delta | ratio to off |`)
  console.log('|---|---|---|---|---|')
  for (const name of names) {
    const us = median(cpu.get(name)!)
    console.log(`| ${name} | ${us.toFixed(0)} µs | ${(us - base).toFixed(0)} µs | ${((us - base) / deltas).toFixed(2)} µs | ${(us / base).toFixed(2)}× |`)
  }
  await Promise.all(fast.map((gw) => gw.close()))
}

await main()
