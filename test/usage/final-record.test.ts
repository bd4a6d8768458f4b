/**
 * The core completes a record once — usage estimated, cost priced — before any `record` hook runs, and then every
 * record hook sees that same object, in plugin order (config order unless an `order`/`enforce` option says
 * otherwise). So an observer needs no ordering tricks to see usage()'s estimate and price, wherever it sits.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import type { RequestRecord, SluicePlugin, Usage } from '../../core/types.ts'
import { createTestGateway } from '../../testing/index.ts'
import { usage } from '../../plugins/usage/index.ts'
import { countTextTokens } from '../../plugins/usage/tokens.ts'
import { deltaProvider, serviceOf, tempDir, textDeltas } from './helpers.ts'

let dir: string
let cleanup: () => void
beforeEach(() => ({ dir, cleanup } = tempDir()))
afterEach(() => cleanup())

interface Seen { by: string; record: RequestRecord; costUSD: number | undefined; usage: Usage }

describe('the final record', () => {
  it('every record hook sees the same finished record, cost already set, in plugin order whatever the order options', async () => {
    const seen: Seen[] = []
    const note = (by: string, record: RequestRecord) => seen.push({ by, record, costUSD: record.costUSD, usage: { ...record.usage } })
    const observer = (name: string, extra: Partial<SluicePlugin> = {}): SluicePlugin =>
      ({ name, ...extra, hooks: { record: (record) => { note(name, record) } } })

    const gateway = await createTestGateway({ plugins: [
      deltaProvider({ name: 'openai', deltas: textDeltas(['No usage', ' from this provider.']) }),
      observer('listed-first-runs-last', { enforce: 'post' }),
      observer('before-usage'),
      usage({ sqlite: { file: join(dir, 'usage.db') }, spillFile: join(dir, 'spill.jsonl') }),
      observer('after-usage'),
      observer('listed-last-runs-first', { order: -50 }),
    ] })
    onTestFinished(() => gateway.close())
    // usage()'s own record hook hands the record to its recorder, whose live feed tells us when it ran
    serviceOf(gateway, 'recorder').subscribe((record) => note('usage', record))

    const response = await gateway.chat({ model: 'openai/gpt-4o', stream: true, messages: [{ role: 'user', content: 'Say hello.' }] })
    await response.text()
    const [final] = await gateway.waitForRecords(1)

    expect(seen.map((s) => s.by)).toEqual(['listed-last-runs-first', 'before-usage', 'usage', 'after-usage', 'listed-first-runs-last'])
    const output = countTextTokens('No usage from this provider.')
    const input = countTextTokens('user') + countTextTokens('Say hello.') + 4
    const cost = input * 2.5e-6 + output * 10e-6
    for (const { by, record, costUSD, usage: atTheTime } of seen) {
      expect(record, by).toBe(final) // one object for every hook
      expect(costUSD, by).toBeCloseTo(cost, 12) // priced before the first hook ran
      expect(atTheTime, by).toEqual({ inputTokens: input, outputTokens: output, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true })
    }
  })
})
