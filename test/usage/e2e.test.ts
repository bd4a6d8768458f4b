/**
 * Recording end to end: the official `openai` and `@anthropic-ai/sdk` clients against a real gateway started from
 * test/configs/usage-e2e.config.ts, in front of the mock upstreams. Every request's record is read twice — from the
 * live feed (`/admin/events`, through the real admin guard) and from the SQLite file — and checked against what the
 * upstream reported and the shipped pricing table. Then `/admin/usage` and `/metrics` are checked against the rows.
 */
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import Database from 'better-sqlite3'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestRecord } from '../../core/types.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startMockOpenAI, usageFor, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually, startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'
import { metricSum, openRecordFeed, parsePrometheus, tableCost } from './e2e-helpers.ts'
import { tempDir } from './helpers.ts'
import { countTextTokens } from '../../plugins/usage/tokens.ts'

const ADMIN_KEY = `usage-e2e-admin-${process.pid}-key`
let dir: ReturnType<typeof tempDir>
let openaiMock: MockOpenAI
let anthropicMock: MockUpstream
let gateway: TestGateway
let feed: Awaited<ReturnType<typeof openRecordFeed>>
let db: Database.Database
let openai: OpenAI
let anthropic: Anthropic
const testStart = Date.now()

beforeAll(async () => {
  dir = tempDir()
  openaiMock = await startMockOpenAI()
  anthropicMock = await startMockAnthropic()
  gateway = await startGatewayFromFile('usage-e2e.config.ts', {
    MOCK_OPENAI_URL: openaiMock.url,
    MOCK_ANTHROPIC_URL: anthropicMock.url,
    USAGE_SQLITE_FILE: join(dir.dir, 'usage.db'),
    USAGE_SPILL_FILE: join(dir.dir, 'spill.jsonl'),
    USAGE_E2E_ADMIN_KEY: ADMIN_KEY,
  })
  feed = await openRecordFeed(gateway.url, ADMIN_KEY)
  db = new Database(join(dir.dir, 'usage.db'), { readonly: true })
  openai = new OpenAI({ apiKey: 'client-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 })
  anthropic = new Anthropic({ apiKey: 'client-key', baseURL: gateway.url, maxRetries: 0 })
})
afterAll(async () => {
  await feed?.close()
  db?.close()
  await gateway?.close()
  await openaiMock?.close()
  await anthropicMock?.close()
  dir?.cleanup()
})

interface Row {
  id: string; status: number; outcome: string; stream: number; provider: string; upstream_model: string; api: string
  input_tokens: number; output_tokens: number; cached_tokens: number; estimated: number; cost_usd: number; attempts: number
}

/** The record of request `id`, once it is both in the live feed and in the SQLite file; they must agree. */
async function recorded(id: string | null | undefined): Promise<{ record: RequestRecord; row: Row }> {
  expect(id).toBeTruthy()
  let record: RequestRecord | undefined
  let row: Row | undefined
  await eventually(() => {
    record = feed.records.get(id!)
    row = db.prepare('SELECT * FROM usage_records WHERE id = ?').get(id) as Row | undefined
    expect(record).toBeDefined()
    expect(row).toBeDefined()
  }, 5000)
  expect(row).toMatchObject({
    status: record!.status, outcome: record!.outcome, provider: record!.provider, upstream_model: record!.upstreamModel,
    input_tokens: record!.usage.inputTokens, output_tokens: record!.usage.outputTokens, estimated: record!.usage.estimated ? 1 : 0,
  })
  expect(row!.cost_usd).toBeCloseTo(record!.costUSD ?? 0, 15)
  return { record: record!, row: row! }
}

const expectCost = (record: RequestRecord, model: string) =>
  expect(record.costUSD).toBeCloseTo(tableCost(model, { input: record.usage.inputTokens, output: record.usage.outputTokens, cached: record.usage.cachedTokens }), 15)

/** The usage the mock OpenAI upstream reports for a plain reply to `text`. */
const reported = (text: string) => usageFor(text, `echo: ${text}`)

describe('openai client', () => {
  it('non-stream: tokens are what the upstream reported, cost is the table price', async () => {
    const text = 'how many tokens is this sentence'
    const { data, response } = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: text }] }).withResponse()
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(record).toMatchObject({
      status: 200, outcome: 'ok', api: 'openai-chat', stream: false, requestedModel: 'openai/gpt-4o-mini',
      provider: 'openai', upstreamModel: 'gpt-4o-mini', attempts: 1,
      usage: { inputTokens: data.usage!.prompt_tokens, outputTokens: data.usage!.completion_tokens, cachedTokens: 0, estimated: false },
    })
    expect(data.usage!.prompt_tokens).toBe(reported(text).prompt_tokens)
    expect(record.costUSD).toBeGreaterThan(0)
    expectCost(record, 'gpt-4o-mini')
    expect(record.ttfbMs).toBeGreaterThanOrEqual(0)
    expect(record.latencyMs).toBeGreaterThanOrEqual(record.ttfbMs!)
  })

  it('stream: the usage chunk the gateway asked for is recorded, and hidden from a client that did not ask', async () => {
    const text = 'stream me a few words please'
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: text }] }).withResponse()
    let content = ''
    let sawUsage = false
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? ''
      if (chunk.usage) sawUsage = true
    }
    expect(content).toBe(`echo: ${text}`)
    expect(sawUsage).toBe(false)
    expect(openaiMock.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true })
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(record).toMatchObject({
      status: 200, outcome: 'ok', stream: true,
      usage: { inputTokens: reported(text).prompt_tokens, outputTokens: reported(text).completion_tokens, estimated: false },
    })
    expectCost(record, 'gpt-4o-mini')
  })

  it('stream with include_usage: the client and the record see the same numbers', async () => {
    const { data: stream, response } = await openai.chat.completions.create({
      model: 'openai/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'count with me' }],
    }).withResponse()
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(record.usage).toMatchObject({ inputTokens: usage!.prompt_tokens, outputTokens: usage!.completion_tokens, estimated: false })
    expectCost(record, 'gpt-4o-mini')
  })

  it('upstream error: recorded with its status and no tokens or cost', async () => {
    const error = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'fail [error 500]' }] })
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    const { record } = await recorded(error.headers?.get('x-request-id'))
    expect(record).toMatchObject({ status: error.status, provider: 'openai', attempts: 1, usage: { inputTokens: 0, outputTokens: 0 }, costUSD: 0 })
    expect(record.outcome).not.toBe('ok')
    expect(record.status).toBeGreaterThanOrEqual(500)
  })

  it('client abort mid-stream: recorded as 499 with partial usage estimated and flagged', async () => {
    const text = 'a long answer please [slow 40]'
    const controller = new AbortController()
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: text }] }, { signal: controller.signal })
      .withResponse()
    const upstreamAborted = openaiMock.nextAbort()
    let received = ''
    let chunks = 0
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta?.content ?? ''
        if (++chunks === 6) controller.abort()
      }
    } catch {}
    await upstreamAborted // the gateway cut the upstream call
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(record).toMatchObject({ status: 499, outcome: 'client_abort', stream: true, provider: 'openai' })
    expect(record.usage.estimated).toBe(true)
    // At least what the client got, and less than the whole answer (40 words of one token each).
    expect(record.usage.outputTokens).toBeGreaterThanOrEqual(countTextTokens(received))
    expect(record.usage.outputTokens).toBeLessThan(40)
    // The prompt reached the upstream but no count came back: estimated with the tokenizer.
    expect(record.usage.inputTokens).toBeGreaterThanOrEqual(countTextTokens(text))
    expectCost(record, 'gpt-4o-mini')
  })

  it('upstream dies mid-stream: recorded as an upstream failure with the partial output estimated', async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'one two three four [die]' }] })
      .withResponse()
    const failed = await (async () => {
      for await (const _chunk of stream) {}
    })().then(() => undefined, (e) => e)
    expect(failed).toBeDefined()
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(record.status).toBe(502)
    expect(record.usage.estimated).toBe(true)
    expect(record.usage.outputTokens).toBeGreaterThan(0)
    expectCost(record, 'gpt-4o-mini')
  })

  it('timeout: recorded as 504 with the prompt estimated (the upstream saw it)', async () => {
    const text = 'never answered [hang]'
    const error = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: text }] })
      .catch((e) => e)
    expect(error.status).toBe(504)
    const { record } = await recorded(error.headers?.get('x-request-id'))
    expect(record).toMatchObject({ status: 504, outcome: 'timeout_error', usage: { outputTokens: 0, estimated: true } })
    expect(record.usage.inputTokens).toBeGreaterThanOrEqual(countTextTokens(text))
    expectCost(record, 'gpt-4o-mini')
  })
})

describe('anthropic client on /v1/messages', () => {
  it('passthrough to the anthropic provider: tokens from the upstream usage, priced from the table', async () => {
    const { data: message, response } = await anthropic.messages
      .create({ model: 'anthropic/claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hello claude' }] }).withResponse()
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(record).toMatchObject({
      status: 200, outcome: 'ok', api: 'anthropic-messages', provider: 'anthropic', upstreamModel: 'claude-haiku-4-5',
      usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens, estimated: false },
    })
    expectCost(record, 'claude-haiku-4-5')
  })

  it('stream to the anthropic provider: message_start input and message_delta output are recorded', async () => {
    const stream = anthropic.messages.stream({ model: 'anthropic/claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'stream, claude' }] })
    const final = await stream.finalMessage()
    const { response } = await stream.withResponse()
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(record).toMatchObject({ status: 200, stream: true, usage: { inputTokens: final.usage.input_tokens, outputTokens: final.usage.output_tokens, estimated: false } })
    expectCost(record, 'claude-haiku-4-5')
  })

  it('translated to the openai provider: the OpenAI upstream usage is recorded', async () => {
    const text = 'translate this request'
    const stream = anthropic.messages.stream({ model: 'openai/gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: text }] })
    const final = await stream.finalMessage()
    const { response } = await stream.withResponse()
    const { record } = await recorded(response.headers.get('x-request-id'))
    expect(final.usage).toMatchObject({ input_tokens: reported(text).prompt_tokens, output_tokens: reported(text).completion_tokens })
    expect(record).toMatchObject({
      api: 'anthropic-messages', provider: 'openai', upstreamModel: 'gpt-4o-mini',
      usage: { inputTokens: reported(text).prompt_tokens, outputTokens: reported(text).completion_tokens, estimated: false },
    })
    expectCost(record, 'gpt-4o-mini')
  })
})

describe('admin API', () => {
  const admin = (path: string, key: string | null = ADMIN_KEY) =>
    fetch(`${gateway.url}/admin${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} })

  it('refuses callers without the admin key', async () => {
    expect((await admin('/usage', null)).status).toBe(401)
    expect((await admin('/usage', 'wrong-key-wrong-key')).status).toBe(401)
    expect((await admin('/events', null)).status).toBe(401)
    expect(feed.contentType).toMatch(/^text\/event-stream/)
  })

  it('rejects a bad query with 400', async () => {
    const response = await admin('/usage?groupBy=color')
    expect(response.status).toBe(400)
    expect((await response.json()).error.message).toMatch(/groupBy/)
  })

  it('/admin/usage?groupBy= sums what the store holds', async () => {
    const { response } = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'one for the totals' }] }).withResponse()
    await recorded(response.headers.get('x-request-id'))
    expect(db.prepare('SELECT COUNT(*) AS n FROM usage_records').get()).toEqual({ n: feed.records.size })
    const rows = db.prepare('SELECT * FROM usage_records').all() as Array<Row & { principal_id: string | null; time: number }>
    const expected = (group: (row: Row & { time: number; principal_id: string | null }) => string) => {
      const out = new Map<string, { requests: number; inputTokens: number; outputTokens: number; costUSD: number; errors: number }>()
      for (const row of rows) {
        const key = group(row)
        const entry = out.get(key) ?? { requests: 0, inputTokens: 0, outputTokens: 0, costUSD: 0, errors: 0 }
        entry.requests++
        entry.inputTokens += row.input_tokens
        entry.outputTokens += row.output_tokens
        entry.costUSD += row.cost_usd
        if (row.status >= 400) entry.errors++
        out.set(key, entry)
      }
      return out
    }
    const groupings: Record<string, (row: Row & { time: number; principal_id: string | null }) => string> = {
      model: (row) => row.upstream_model,
      provider: (row) => row.provider,
      key: (row) => row.principal_id ?? '(none)',
      day: (row) => new Date(row.time).toISOString().slice(0, 10),
    }
    for (const [groupBy, group] of Object.entries(groupings)) {
      const response = await admin(`/usage?groupBy=${groupBy}&from=${testStart - 1000}&to=${Date.now() + 1000}`)
      expect(response.status).toBe(200)
      const body = await response.json()
      expect(body.groupBy).toBe(groupBy)
      const want = expected(group)
      expect(body.rows.map((r: any) => r.group).sort()).toEqual([...want.keys()].sort())
      for (const row of body.rows) {
        const entry = want.get(row.group)!
        expect(row).toMatchObject({ requests: entry.requests, inputTokens: entry.inputTokens, outputTokens: entry.outputTokens, errors: entry.errors })
        expect(row.costUSD).toBeCloseTo(entry.costUSD, 12)
      }
    }
    expect(expected(groupings.model!).get('gpt-4o-mini')!.requests).toBeGreaterThan(5)
  })
})

describe('/metrics', () => {
  it('is valid Prometheus text and counts each request, its tokens and its cost', async () => {
    const scrape = async () => {
      const response = await fetch(`${gateway.url}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      return parsePrometheus(await response.text())
    }
    // Everything recorded so far has gone through the metrics too.
    const before = await scrape()
    expect(metricSum(before, 'sluice_requests_total')).toBe(feed.records.size)

    const ids: string[] = []
    const texts = ['metrics one', 'metrics two two', 'metrics three three three']
    for (const text of texts) {
      const { response } = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: text }] }).withResponse()
      ids.push(response.headers.get('x-request-id')!)
    }
    const error = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[error 503]' }] }).catch((e) => e)
    ids.push(error.headers.get('x-request-id'))
    const records = await Promise.all(ids.map(async (id) => (await recorded(id)).record))

    const after = await scrape()
    const delta = (name: string, where: Record<string, string> = {}) => metricSum(after, name, where) - metricSum(before, name, where)
    const labels = { model: 'gpt-4o-mini', provider: 'openai' }
    expect(delta('sluice_requests_total')).toBe(4)
    expect(delta('sluice_requests_total', { status: '200', ...labels, api: 'openai-chat' })).toBe(3)
    expect(delta('sluice_requests_total', { status: String(error.status) })).toBe(1)
    expect(delta('sluice_tokens_total', { type: 'input', ...labels })).toBe(texts.reduce((n, t) => n + reported(t).prompt_tokens, 0))
    expect(delta('sluice_tokens_total', { type: 'output', ...labels })).toBe(texts.reduce((n, t) => n + reported(t).completion_tokens, 0))
    expect(delta('sluice_cost_usd_total', labels)).toBeCloseTo(records.reduce((n, r) => n + (r.costUSD ?? 0), 0), 12)
    expect(delta('sluice_request_duration_seconds_count', labels)).toBe(4)
    expect(delta('sluice_upstream_errors_total', { provider: 'openai' })).toBe(1)
    expect(metricSum(after, 'sluice_usage_records_total', { result: 'accepted' })).toBe(feed.records.size)
    expect(after.some((s) => s.name === 'sluice_usage_queue_depth')).toBe(true)
  })
})
