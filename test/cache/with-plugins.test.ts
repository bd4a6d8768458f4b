/**
 * The cache among other plugins: behind a router with a fallback (and a breaker's open circuit), under a
 * plugin that edits replies (applied once to a hit, as to a miss), before every other settle function (a
 * budget sees a hit cost 0), and in `/metrics`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin, metricsRegistry, type RequestRecord, type Target } from '../../core/index.ts'
import { router } from '../../plugins/router/index.ts'
import { metrics } from '../../plugins/metrics/index.ts'
import { callsWith, recordOf, startRig, uniquePrompt, type CacheRig } from './helpers.ts'

/** A breaker stand-in: the circuit of `openai/gpt-4o` is open. */
const openCircuit = definePlugin(() => ({
  name: 'open-circuit',
  setup(gw) {
    gw.provide('breakers', { blockedFor: (target: Target) => (target.model === 'gpt-4o' ? 30_000 : 0), states: () => [] } as any)
  },
}))

/** Stamps every reply once, at its first text (not idempotent: twice would show). */
const stamp = definePlugin(() => ({
  name: 'stamp',
  hooks: {
    stream: () => {
      let stamped = false
      return {
        delta: (delta) => {
          if (delta.type !== 'text' || stamped) return delta
          stamped = true
          return { ...delta, text: `[stamped] ${delta.text}` }
        },
      }
    },
  },
}))

/** What a budget's settle function sees of each request's cost, by id — registered before and after the cache. */
const seen = new Map<string, number | undefined>()
const budget = (name: string) => definePlugin(() => ({
  name,
  hooks: { limit: (ctx) => (record: RequestRecord) => { seen.set(`${name}:${ctx.id}`, record.costUSD) } },
}))()

let rig: CacheRig
beforeAll(async () => {
  rig = await startRig({}, {
    plugins: [
      router({ models: { pair: ['openai/gpt-4o', 'openai/gpt-4o-mini'] } }),
      stamp(),
      budget('budget-after'),
      metrics(),
    ],
  })
})
afterAll(() => rig?.close())

const user = (content: string) => [{ role: 'user' as const, content }]
const cacheOf = (response: Response) => response.headers.get('x-sluice-cache')

describe('behind a router', () => {
  it("a fallback's answer is stored under the target that gave it", async () => {
    const prompt = uniquePrompt('[gpt-4o: error 500]')
    const first = await rig.gw.chat({ model: 'pair', temperature: 0, messages: user(prompt) })
    expect(first.headers.get('x-sluice-model')).toBe('gpt-4o-mini')
    // The alias still goes to its primary first: not served the fallback's answer while the primary is tried.
    expect(cacheOf(await rig.gw.chat({ model: 'pair', temperature: 0, messages: user(prompt) }))).toBe('miss')
    const direct = await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) })
    expect(cacheOf(direct)).toBe('hit')
    expect(direct.headers.get('x-sluice-model')).toBe('gpt-4o-mini')
  })

  it("while the primary's circuit is open, the fallback's answers are hits", async () => {
    const withBreaker = await startRig({}, { plugins: [openCircuit(), router({ models: { pair: ['openai/gpt-4o', 'openai/gpt-4o-mini'] } })] })
    try {
      const prompt = uniquePrompt('primary down')
      const ask = () => withBreaker.gw.chat({ model: 'pair', temperature: 0, messages: user(prompt) })
      const [first, second] = [await ask(), await ask()]
      expect([cacheOf(first), cacheOf(second)]).toEqual(['miss', 'hit'])
      expect(second.headers.get('x-sluice-model')).toBe('gpt-4o-mini')
      expect(withBreaker.openaiMock.requests.filter((r) => r.body.model === 'gpt-4o')).toHaveLength(0)
      expect(callsWith(withBreaker.openaiMock, prompt)).toBe(1)
    } finally {
      await withBreaker.close()
    }
  })
})

describe('under a plugin that edits replies', () => {
  it('a hit is edited once, as a miss is: the cache keeps the upstream\'s answer (JSON)', async () => {
    const prompt = uniquePrompt('stamp json')
    const ask = async () => (await (await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) })).json()).choices[0].message.content
    expect(await ask()).toBe(`[stamped] echo: ${prompt}`)
    expect(await ask()).toBe(`[stamped] echo: ${prompt}`)
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })

  it('...and streamed', async () => {
    const prompt = uniquePrompt('stamp stream')
    const ask = async () => {
      const stream = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, messages: user(prompt) })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
      return text
    }
    expect(await ask()).toBe(`[stamped] echo: ${prompt}`)
    expect(await ask()).toBe(`[stamped] echo: ${prompt}`)
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })
})

describe('settle functions and metrics', () => {
  it("another plugin's settle function sees a hit cost 0 (the cache's runs first), a miss its price", async () => {
    const prompt = uniquePrompt('budgeted')
    const miss = await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) })
    const hit = await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) })
    const [missRecord, hitRecord] = [await recordOf(rig.gw, miss), await recordOf(rig.gw, hit)]
    expect(seen.get(`budget-after:${missRecord.id}`)).toBeGreaterThan(0)
    expect(seen.get(`budget-after:${hitRecord.id}`)).toBe(0)
    expect(hitRecord.savedUSD).toBe(missRecord.costUSD)
  })

  it('/metrics counts hits, misses, bypasses and the USD saved', async () => {
    const value = async (name: string, labels = '') => {
      const metric = (await metricsRegistry.getMetricsAsJSON()).find((m) => m.name === name) as any
      return (metric?.values ?? []).filter((v: any) => !labels || v.labels.result === labels).reduce((sum: number, v: any) => sum + v.value, 0)
    }
    const before = { hit: await value('sluice_cache_requests_total', 'hit'), miss: await value('sluice_cache_requests_total', 'miss'), bypass: await value('sluice_cache_requests_total', 'bypass'), saved: await value('sluice_cache_saved_usd_total') }
    const prompt = uniquePrompt('counted')
    await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) })
    const hit = await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) })
    await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }, { 'cache-control': 'no-store' })
    const saved = (await recordOf(rig.gw, hit)).savedUSD!
    expect(saved).toBeGreaterThan(0)
    expect(await value('sluice_cache_requests_total', 'hit')).toBe(before.hit + 1)
    expect(await value('sluice_cache_requests_total', 'miss')).toBe(before.miss + 1)
    expect(await value('sluice_cache_requests_total', 'bypass')).toBe(before.bypass + 1)
    expect(await value('sluice_cache_saved_usd_total')).toBeCloseTo(before.saved + saved, 12)
    const scrape = await (await rig.gw.fetch(`${rig.gw.url}/metrics`)).text()
    expect(scrape).toMatch(/^sluice_cache_requests_total\{result="hit"\} \d+$/m)
    expect(scrape).toMatch(/^sluice_cache_saved_usd_total [\d.e-]+$/m)
  })
})
