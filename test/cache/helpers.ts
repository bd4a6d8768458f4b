/** A gateway with the cache in front of the OpenAI and Anthropic mock upstreams, and what the tests read off it. */
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { definePlugin, type Clock, type SluicePlugin, type Usage } from '../../core/index.ts'
import { anthropic, openai } from '../../plugins/providers/index.ts'
import { cache, type CacheOptions } from '../../plugins/cache/index.ts'
import { createTestGateway, type TestGateway } from '../../testing/index.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startMockAnthropic } from '../fixtures/mock-anthropic.ts'
import type { MockUpstream } from '../fixtures/mock-server.ts'

/** USD per token in the tests' own pricing service: 1 µ$ per input token, 2 µ$ per output token. */
export const priceOf = (usage: Pick<Usage, 'inputTokens' | 'outputTokens'>) => usage.inputTokens * 1e-6 + usage.outputTokens * 2e-6

export const testPricing = definePlugin(() => ({
  name: 'test-pricing',
  setup(gw) {
    gw.provide('pricing', { cost: (_provider, _model, usage) => priceOf(usage), price: () => ({ input: 1e-6, output: 2e-6 }) })
  },
}))

export interface CacheRig {
  gw: TestGateway
  openaiMock: MockOpenAI
  anthropicMock: MockUpstream
  openai: OpenAI
  claude: Anthropic
  close(): Promise<void>
}

export async function startRig(options: CacheOptions = {}, extra: { plugins?: SluicePlugin[]; clock?: Clock } = {}): Promise<CacheRig> {
  const openaiMock = await startMockOpenAI()
  const anthropicMock = await startMockAnthropic()
  const gw = await createTestGateway({
    plugins: [
      openai({ apiKey: 'sk-test-upstream-cache-000000', baseURL: openaiMock.url }),
      anthropic({ apiKey: 'test-anthropic-key', baseURL: anthropicMock.url }),
      testPricing(),
      cache(options),
      ...(extra.plugins ?? []),
    ],
  }, { clock: extra.clock })
  return {
    gw,
    openaiMock,
    anthropicMock,
    openai: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', fetch: gw.fetch, maxRetries: 0 }),
    claude: new Anthropic({ baseURL: gw.url, apiKey: 'unused', fetch: gw.fetch, maxRetries: 0 }),
    async close() {
      await gw.close()
      await openaiMock.close()
      await anthropicMock.close()
    },
  }
}

/** The text of a request's last user message, whatever the upstream's format (chat `messages`, Responses `input`). */
function lastUserText(body: any): string {
  if (typeof body?.input === 'string') return body.input
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : Array.isArray(body?.input) ? body.input : []
  const last = messages.filter((m) => m?.role === 'user').at(-1)
  if (!last) return ''
  return typeof last.content === 'string' ? last.content : (last.content as any[]).map((part) => part?.text ?? '').join(' ')
}

/** How many requests carrying `prompt` an upstream mock received. */
export function callsWith(mock: { requests: Array<{ body: any }> }, prompt: string): number {
  return mock.requests.filter((request) => lastUserText(request.body) === prompt).length
}

/** A prompt no other test uses. */
let sequence = 0
export const uniquePrompt = (label: string) => `${label} #${++sequence} ${Math.random().toString(36).slice(2, 8)}`

/** A manual clock for TTL tests (the gateway's injectable clock). */
export function manualClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(ms: number): void } {
  let now = start
  return {
    now: () => now,
    random: () => Math.random(),
    sleep: () => Promise.resolve(),
    advance(ms: number) { now += ms },
  }
}

/** The record of the request that got `response` (records arrive just after a response has ended). */
export async function recordOf(gw: TestGateway, response: Response) {
  const id = response.headers.get('x-request-id')
  for (let waited = 0; waited < 2000; waited += 5) {
    const record = gw.records.find((r) => r.id === id)
    if (record) return record
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`no record for ${id}`)
}

/** OpenAI usage reduced to the counts the neutral view carries (the upstream's zero-valued detail fields are not replayed). */
export function openaiCounts(usage: any) {
  return {
    prompt_tokens: usage?.prompt_tokens,
    completion_tokens: usage?.completion_tokens,
    total_tokens: usage?.total_tokens,
    cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
  }
}
