/**
 * The request log through the official `openai` client: content is off unless asked for; with it on, a request is
 * found by a word it contained, and the entry of a fallen-back request shows both attempts with their targets,
 * statuses and timings, usage and cost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { retry } from '../../plugins/index.ts'
import { startLogsRig, uniqueWord, type LogsRig } from './helpers.ts'

describe('content capture off (the default)', () => {
  let rig: LogsRig
  beforeAll(async () => { rig = await startLogsRig() })
  afterAll(() => rig?.close())

  it('writes an entry per request with what the record has, and no content; free text does not find the prompt', async () => {
    const word = uniqueWord('quiet')
    const { response, data } = await rig.client.chat.completions.create({ model: 'a/plain-model', messages: [{ role: 'user', content: `say ${word}` }] }).withResponse()
    expect(data.choices[0]!.message.content).toContain(word)
    const id = response.headers.get('x-request-id')!
    const entry = await rig.entry(id)
    expect(entry).toMatchObject({ id, status: 200, outcome: 'ok', provider: 'a', upstreamModel: 'plain-model', requestedModel: 'a/plain-model', principalId: rig.keyId, principalName: 'logs-test-key', attempts: 1 })
    expect(entry.usage.inputTokens).toBeGreaterThan(0)
    expect(entry.content).toBeUndefined()
    expect(JSON.stringify(entry)).not.toContain(word)
    expect((await rig.admin(`/requests?q=${word}`)).body.data).toEqual([])
    const listed = await rig.admin(`/requests?key=${rig.keyId}`)
    expect(listed.body.data.map((e: any) => e.id)).toContain(id)
    expect(listed.body.data.find((e: any) => e.id === id).hasContent).toBe(false)
  })
})

describe('content capture on', () => {
  let rig: LogsRig
  beforeAll(async () => { rig = await startLogsRig(() => ({ content: true })) })
  afterAll(() => rig?.close())

  it('a request is found by a word it contained; its detail holds the messages and the answer', async () => {
    const word = uniqueWord('findme')
    const { response } = await rig.client.chat.completions.create({
      model: 'a/gpt-x',
      messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: `where is the ${word} please` }],
      temperature: 0.2,
    }).withResponse()
    const id = response.headers.get('x-request-id')!
    await rig.entry(id)
    const found = await rig.admin(`/requests?q=${word}`)
    expect(found.status).toBe(200)
    expect(found.body.data.map((e: any) => e.id)).toEqual([id])
    // A prefix of the word finds it too; a word it did not contain does not.
    expect((await rig.admin(`/requests?q=${word.slice(0, -2)}`)).body.data.map((e: any) => e.id)).toEqual([id])
    expect((await rig.admin(`/requests?q=${word}+${uniqueWord('absent')}`)).body.data).toEqual([])

    const detail = (await rig.admin(`/requests/${id}`)).body
    expect(detail.content.request.system).toEqual(['You are terse.'])
    expect(detail.content.request.messages).toEqual([{ role: 'user', text: `where is the ${word} please` }])
    expect(detail.content.request.params).toMatchObject({ temperature: 0.2 })
    expect(detail.content.response.text).toBe(`echo: where is the ${word} please`)
    expect(detail.content.response.finishReason).toBe('stop')
  })

  it('a fallback: the detail shows both attempts with targets, statuses and timings, then usage and cost', async () => {
    const word = uniqueWord('fallback')
    const { response, data } = await rig.client.chat.completions.create({
      model: 'chain',
      messages: [{ role: 'user', content: `[chain-alpha: error 500] tell me about ${word}` }],
    }).withResponse()
    expect(data.choices[0]!.message.content).toContain(word)
    expect(response.headers.get('x-sluice-attempts')).toBe('2')
    const id = response.headers.get('x-request-id')!
    await rig.entry(id)
    const [hit] = (await rig.admin(`/requests?q=${word}`)).body.data
    expect(hit.id).toBe(id)
    const detail = (await rig.admin(`/requests/${hit.id}`)).body
    expect(detail).toMatchObject({ requestedModel: 'chain', provider: 'b', upstreamModel: 'chain-beta', status: 200, attempts: 2 })
    expect(detail.attemptList).toHaveLength(2)
    expect(detail.attemptList[0]).toMatchObject({ number: 1, provider: 'a', model: 'chain-alpha', status: 500, outcome: 'status' })
    expect(detail.attemptList[1]).toMatchObject({ number: 2, provider: 'b', model: 'chain-beta', status: 200, outcome: 'ok' })
    for (const attempt of detail.attemptList) {
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0)
      expect(attempt.offsetMs).toBeGreaterThanOrEqual(0)
    }
    expect(detail.attemptList[1].offsetMs).toBeGreaterThanOrEqual(detail.attemptList[0].offsetMs)
    expect(detail.usage.outputTokens).toBeGreaterThan(0)
    expect(detail.content.response.text).toContain(word)
  })

  it('a streamed answer with tool calls is logged from its deltas', async () => {
    const word = uniqueWord('tools')
    const stream = await rig.client.chat.completions.create({
      model: 'a/gpt-x', stream: true,
      messages: [{ role: 'user', content: `[tools] weather for ${word}` }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    }).withResponse()
    for await (const _ of stream.data) { /* drain */ }
    const id = stream.response.headers.get('x-request-id')!
    const detail = await rig.entry(id)
    expect(detail.stream).toBe(true)
    expect(detail.content.request.tools).toEqual(['get_weather'])
    expect(detail.content.response.toolCalls.length).toBeGreaterThanOrEqual(1)
    expect(detail.content.response.toolCalls[0].name).toBeTruthy()
    expect(detail.content.response.finishReason).toBe('tool_calls')
  })

  it('filters by model, provider, status, key and time, and pages with a cursor', async () => {
    const word = uniqueWord('paging')
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const { response } = await rig.client.chat.completions.create({ model: 'b/page-model', messages: [{ role: 'user', content: `${word} number ${i}` }] }).withResponse()
      ids.push(response.headers.get('x-request-id')!)
    }
    const failed = await rig.client.chat.completions.create({ model: 'b/page-model', messages: [{ role: 'user', content: `[error 400] ${word} bad` }] }).catch((error) => error)
    expect(failed.status).toBe(400)
    await Promise.all(ids.map((id) => rig.entry(id)))
    await expect.poll(async () => (await rig.admin(`/requests?q=${word}&status=error`)).body.data.length, { timeout: 10_000 }).toBe(1)

    const pages: string[][] = []
    let cursor: string | undefined
    do {
      const page = await rig.admin(`/requests?q=${word}&status=ok&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.status).toBe(200)
      pages.push(page.body.data.map((e: any) => e.id))
      cursor = page.body.nextCursor
    } while (cursor)
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1])
    expect(pages.flat().sort()).toEqual([...ids].sort())

    expect((await rig.admin(`/requests?q=${word}&model=b/page-model`)).body.data).toHaveLength(6)
    expect((await rig.admin(`/requests?q=${word}&model=page-model&provider=b&status=400`)).body.data).toHaveLength(1)
    expect((await rig.admin(`/requests?q=${word}&provider=a`)).body.data).toHaveLength(0)
    expect((await rig.admin(`/requests?q=${word}&key=logs-test-key`)).body.data).toHaveLength(6)
    expect((await rig.admin(`/requests?q=${word}&key=someone-else`)).body.data).toHaveLength(0)
    expect((await rig.admin(`/requests?q=${word}&to=${Date.now() - 3_600_000}`)).body.data).toHaveLength(0)
    expect((await rig.admin(`/requests?q=${word}&from=${new Date(Date.now() - 3_600_000).toISOString()}`)).body.data).toHaveLength(6)
  })

  it('bad filters get a 400 naming the parameter; unknown ids a 404; no admin key a 401', async () => {
    expect(await rig.admin('/requests?limit=0')).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('limit') } } })
    expect(await rig.admin('/requests?status=teapot')).toMatchObject({ status: 400 })
    expect(await rig.admin('/requests?cursor=garbage')).toMatchObject({ status: 400 })
    expect(await rig.admin('/requests?from=yesterday')).toMatchObject({ status: 400 })
    expect(await rig.admin('/requests?q=' + encodeURIComponent('"unbalanced AND (quote OR * NEAR'))).toMatchObject({ status: 200 })
    expect(await rig.admin('/requests/req_doesnotexist')).toMatchObject({ status: 404 })
    const anonymous = await rig.gw.fetch(`${rig.gw.url}/admin/requests`)
    expect(anonymous.status).toBe(401)
  })
})

describe('a retried request', () => {
  let rig: LogsRig
  beforeAll(async () => { rig = await startLogsRig(() => ({ content: true }), [retry({ attempts: 2, baseMs: 5, maxMs: 20 })]) })
  afterAll(() => rig?.close())

  it('shows both attempts on the same target: the failure, then the success', async () => {
    const word = uniqueWord('retried')
    const { response } = await rig.client.chat.completions.create({ model: 'a/flaky', messages: [{ role: 'user', content: `[flaky x1: error 503] ${word}` }] }).withResponse()
    expect(response.headers.get('x-sluice-attempts')).toBe('2')
    const detail = await rig.entry(response.headers.get('x-request-id')!)
    expect(detail.attemptList.map((a: any) => [a.number, a.provider, a.model, a.status, a.outcome])).toEqual([[1, 'a', 'flaky', 503, 'status'], [2, 'a', 'flaky', 200, 'ok']])
    expect(detail.attemptList[1].offsetMs).toBeGreaterThanOrEqual(detail.attemptList[0].offsetMs + detail.attemptList[0].durationMs)
  })
})
