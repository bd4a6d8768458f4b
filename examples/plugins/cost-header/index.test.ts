import { expect, it } from 'vitest'
import { definePlugin, estimateBodyTokens } from 'sluice'
import { createTestGateway, scriptedProvider } from 'sluice/testing'
import { costHeader } from './index.ts'

// A pricing service of the test's own, in place of usage(): $10 per million input tokens, $30 per million output.
const price = { input: 10 / 1e6, output: 30 / 1e6 }
const flatPricing = definePlugin(() => ({
  name: 'flat-pricing',
  setup(gw) {
    gw.provide('pricing', { price: () => price, cost: (_provider, _model, usage) => usage.inputTokens * price.input + usage.outputTokens * price.output })
  },
}))

it('sets the worst-case cost before the first byte; the record gets the real cost', async () => {
  const gw = await createTestGateway({ plugins: [scriptedProvider({ name: 'mock', replies: [{ text: 'four words of reply' }] }), flatPricing(), costHeader()] })
  const question = { role: 'user', content: 'how much will this cost?' }

  for (const stream of [false, true]) {
    const body = { model: 'mock/model', max_tokens: 100, stream, messages: [question] }
    const worst = estimateBodyTokens(body) * price.input + 100 * price.output
    const response = await gw.chat(body)
    expect(Number(response.headers.get('x-sluice-cost-estimate-usd'))).toBeCloseTo(worst, 6)
    await response.text()
    const record = (await gw.waitForRecords(gw.records.length + 1)).at(-1)!
    expect(record.costUSD).toBeGreaterThan(0)
    expect(record.costUSD).toBeLessThan(worst)
  }
  await gw.close()
})
