import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { definePlugin } from '../../core/plugin.ts'
import type { Services } from '../../core/types.ts'
import { createTestGateway } from '../../testing/index.ts'
import { metrics } from '../../plugins/metrics/index.ts'
import { usage as usagePlugin } from '../../plugins/usage/index.ts'
import { countTextTokens } from '../../plugins/usage/tokens.ts'
import { deltaProvider, startPlugins, tempDir, textDeltas } from '../usage/helpers.ts'

let dir: string
let cleanup: () => void
beforeEach(() => ({ dir, cleanup } = tempDir()))
afterEach(() => cleanup())

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses Prometheus text exposition strictly: every line must be a comment, HELP/TYPE, or a sample. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|[Nn]a[Nn]|\+Inf|-Inf)(?: \d+)?$/ // Go's ParseFloat, as Prometheus reads it: NaN in any case
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      expect(line, line).toMatch(/^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/)
      continue
    }
    const match = sample.exec(line)
    if (!match) throw new Error(`unparseable metrics line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!
    samples.push({ name: match[1]!, labels, value: /^nan$/i.test(match[3]!) ? NaN : Number(match[3]!.replace('Inf', 'Infinity')) })
  }
  return samples
}

function find(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}

const breakersPlugin = definePlugin((states: ReturnType<Services['breakers']['states']>) => ({
  name: 'fake-breaker',
  setup(gw) {
    gw.provide('breakers', { states: () => states, blockedFor: () => 0 })
  },
}))

const scrape = async (app: { request(path: string, init?: RequestInit): Response | Promise<Response> }, path = '/metrics', token?: string) => {
  const response = await app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  expect(response.status).toBe(200)
  return parsePrometheus(await response.text())
}

describe('metrics()', () => {
  it('serves Prometheus text with request, latency, token, cost, error, limiter, breaker and queue metrics', async () => {
    const model = `gpt-4o-${Date.now()}`
    const gw = await startPlugins([
      usagePlugin({ sqlite: { file: join(dir, 'usage.db') }, spillFile: join(dir, 'spill.jsonl'), flushIntervalMs: 60_000 }),
      metrics({ token: 'scrape-secret' }),
      breakersPlugin([{ target: 'openai/gpt-4o', state: 'open', failures: 5, requests: 9 }, { target: 'anthropic/claude', state: 'closed', failures: 0, requests: 3 }]),
    ])
    // Records as the core hands them to the record hooks: usage completed and priced.
    const target = { provider: 'openai', model }
    await gw.finishRequest({ target, usage: { inputTokens: 1000, outputTokens: 200, cachedTokens: 100 }, costUSD: 0.0036, latencyMs: 300, ttfbMs: 80 })
    await gw.finishRequest({ target, usage: { inputTokens: 10, outputTokens: 5 }, costUSD: 0.00006, latencyMs: 3000, ttfbMs: 2900 })
    await gw.finishRequest({ target, attempts: 3, status: 502, outcome: 'api_error', costUSD: 0 })
    await gw.finishRequest({ status: 429, outcome: 'rate_limit_error' })
    await gw.finishRequest({ target, stream: true, usage: { inputTokens: 12, outputTokens: 3, estimated: true }, costUSD: 0.000048, ttfbMs: 40 })

    expect((await gw.app.request('/metrics')).status).toBe(401)
    expect((await gw.app.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    const response = await gw.app.request('/metrics', { headers: { authorization: 'Bearer scrape-secret' } })
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const samples = await scrape(gw.app, '/metrics', 'scrape-secret')

    const labels = { model, provider: 'openai' }
    expect(find(samples, 'sluice_requests_total', { ...labels, status: '200', api: 'openai-chat' })).toBe(3)
    expect(find(samples, 'sluice_requests_total', { ...labels, status: '502' })).toBe(1)
    expect(find(samples, 'sluice_requests_total', { status: '429', model: 'none', provider: 'none' })).toBe(1)
    expect(find(samples, 'sluice_request_duration_seconds_count', labels)).toBe(4)
    expect(find(samples, 'sluice_request_duration_seconds_bucket', { ...labels, le: '0.5' })).toBe(3)
    expect(find(samples, 'sluice_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(4)
    expect(find(samples, 'sluice_ttfb_seconds_count', labels)).toBe(3)
    expect(find(samples, 'sluice_tokens_total', { ...labels, type: 'input' })).toBe(1022)
    expect(find(samples, 'sluice_tokens_total', { ...labels, type: 'output' })).toBe(208)
    expect(find(samples, 'sluice_tokens_total', { ...labels, type: 'cached' })).toBe(100)
    expect(find(samples, 'sluice_estimated_usage_total', labels)).toBe(1)
    expect(find(samples, 'sluice_cost_usd_total', labels)).toBeCloseTo(0.0036 + 0.00006 + 0.000048, 12)
    expect(find(samples, 'sluice_upstream_errors_total', { provider: 'openai', type: 'api_error' })).toBe(1)
    expect(find(samples, 'sluice_limiter_rejections_total', { reason: 'rate_limit_error' })).toBe(1)
    expect(find(samples, 'sluice_breaker_state', { target: 'openai/gpt-4o' })).toBe(2)
    expect(find(samples, 'sluice_breaker_state', { target: 'anthropic/claude' })).toBe(0)
    expect(find(samples, 'sluice_usage_queue_depth', {})).toBe(gw.inject('recorder')!.stats().queued)
    expect(find(samples, 'sluice_usage_queue_depth', {})).toBe(5)
    expect(find(samples, 'sluice_usage_records_total', { result: 'accepted' })).toBeGreaterThanOrEqual(5)
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true)
  })

  it("counts usage()'s estimate and price for a stream whose provider reported no usage (through the real core)", async () => {
    const model = `gpt-4o-estimated-${Date.now()}`
    const pieces = ['estimated', ' words', ' here']
    const gateway = await createTestGateway({ plugins: [
      deltaProvider({ name: 'openai', deltas: textDeltas(pieces) }),
      // listed before usage(): it still sees the completed, priced record
      metrics({ defaultMetrics: false }),
      usagePlugin({ sqlite: { file: join(dir, 'usage.db') }, spillFile: join(dir, 'spill.jsonl'), prices: { [model]: { input: 2, output: 8 } } }),
    ] })
    onTestFinished(() => gateway.close())
    await (await gateway.chat({ model: `openai/${model}`, stream: true, messages: [{ role: 'user', content: 'Say hello.' }] })).text()
    await gateway.waitForRecords(1)

    const samples = await scrape(gateway.gateway.app)
    const labels = { model, provider: 'openai' }
    const input = countTextTokens('user') + countTextTokens('Say hello.') + 4
    const output = countTextTokens(pieces.join(''))
    expect(find(samples, 'sluice_tokens_total', { ...labels, type: 'input' })).toBe(input)
    expect(find(samples, 'sluice_tokens_total', { ...labels, type: 'output' })).toBe(output)
    expect(find(samples, 'sluice_estimated_usage_total', labels)).toBe(1)
    expect(find(samples, 'sluice_cost_usd_total', labels)).toBeCloseTo((input * 2 + output * 8) / 1e6, 12)
  })

  it('observes records from its own hook when no usage plugin records them', async () => {
    const model = `solo-${Date.now()}`
    const gw = await startPlugins([metrics({ defaultMetrics: false, path: '/internal/metrics' })])
    await gw.finishRequest({ target: { provider: 'openai', model }, usage: { inputTokens: 3, outputTokens: 4 }, costUSD: 0.5 })
    const samples = await scrape(gw.app, '/internal/metrics')
    expect(find(samples, 'sluice_requests_total', { model, status: '200' })).toBe(1)
    expect(find(samples, 'sluice_tokens_total', { model, type: 'output' })).toBe(4)
    expect(find(samples, 'sluice_cost_usd_total', { model })).toBe(0.5)
  })

  it('refuses bad options with one line', () => {
    expect(() => metrics({ tokn: 'x' } as any)).toThrow('metrics: unknown option "tokn"')
    expect(() => metrics({ path: 'metrics' })).toThrow(/metrics: option "path"/)
  })
})
