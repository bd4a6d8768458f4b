// Two mock OpenAI upstreams (A and B) and a dead port behind router aliases, with retry and breaker: the
// end-to-end resilience suites in test/resilience/e2e-*.test.ts. URLs come from the test through the environment.
//
// `pair-0` … `pair-79` each map to [a/pair-N-alpha, b/pair-N-beta] (ordered fallback), so every test gets
// targets — and circuits — of its own; faults are injected per target with the mock's scoped directives
// (`[pair-3-alpha: error 500]`).
import { defineGatewayConfig, definePlugin, type RequestRecord } from 'sluice'
import { openaiCompatible } from 'sluice/plugins/providers'
import { breaker, retry, router } from 'sluice/plugins'

const records: RequestRecord[] = ((globalThis as any).__sluiceResilienceRecords ??= [])

const recorder = definePlugin(() => ({
  name: 'test-recorder',
  hooks: { record: (record) => { records.push(record) } },
}))

const numbered = <T>(prefix: string, count: number, targets: (i: number) => T) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}-${i}`, targets(i)]))

const pairs = numbered('pair', 80, (i) => [`a/pair-${i}-alpha`, `b/pair-${i}-beta`])
// The first target's provider points at a port nothing listens on.
const refused = numbered('refused', 4, (i) => [`dead/refused-${i}`, `b/refused-${i}-beta`])
// One per property run, so each run starts with closed circuits.
const chaos = numbered('chaos', 8, (i) => [`a/chaos-${i}-alpha`, `b/chaos-${i}-beta`])
// Per-target timeouts: a long first-byte wait but a short total deadline on A.
const deadlines = numbered('deadline', 4, (i) => [{ model: `a/deadline-${i}-alpha`, timeouts: { firstByte: 3_000, total: 800 } }, `b/deadline-${i}-beta`])

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  plugins: [
    // Deadlines short enough for quick tests, long enough that a healthy answer never misses them even on a
    // busy machine (the mocks share the test's event loop).
    openaiCompatible({ name: 'a', baseURL: process.env.MOCK_A_URL!, timeouts: { connect: 1_000, firstByte: 1_000, idle: 600, total: 5_000 } }),
    openaiCompatible({ name: 'b', baseURL: process.env.MOCK_B_URL!, timeouts: { connect: 1_000, firstByte: 1_000, idle: 600, total: 5_000 } }),
    openaiCompatible({ name: 'dead', baseURL: process.env.DEAD_URL!, timeouts: { connect: 1_000 } }),
    router({
      models: {
        ...pairs,
        ...refused,
        ...deadlines,
        fastest: { targets: ['a/fastest-alpha', 'b/fastest-beta'], strategy: 'latency' },
        // Long first-byte waits, so a slow answer here is slow, not a timeout.
        'least-busy': { targets: [{ model: 'a/busy-alpha', timeouts: { firstByte: 5_000 } }, { model: 'b/busy-beta', timeouts: { firstByte: 5_000 } }], strategy: 'least-inflight' },
        ...chaos,
      },
      latency: { explore: 0 },
    }),
    retry({ attempts: 2, baseMs: 20, maxMs: 100, maxRetryAfterMs: 2_000 }),
    breaker({ minRequests: 3, failureRatio: 0.5, windowMs: 10_000, cooldownMs: 1_000 }),
    recorder(),
  ],
})
