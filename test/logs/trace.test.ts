/**
 * The entry's trace id with otel(): the trace the gateway's spans are in (the one the upstream was told about in
 * its `traceparent`), whether the gateway started it or the client did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otel } from '../../plugins/index.ts'
import { closedPort, startLogsRig, uniqueWord, type LogsRig } from './helpers.ts'

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c'

describe('trace ids with otel()', () => {
  let rig: LogsRig
  // A collector address nothing listens on: spans are dropped (counted), requests are unaffected.
  beforeAll(async () => { rig = await startLogsRig(() => ({}), [otel({ endpoint: `http://127.0.0.1:${await closedPort()}/v1/traces` })]) })
  afterAll(() => rig?.close())

  const upstreamTrace = (word: string) => {
    const request = rig.a.requests.find((r) => JSON.stringify(r.body).includes(word))
    return /^00-([0-9a-f]{32})-/.exec(String(request?.headers.traceparent))?.[1]
  }

  it('a trace the gateway started: the entry names the trace the upstream attempt was part of', async () => {
    const word = uniqueWord('trace')
    const { response } = await rig.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: word }] }).withResponse()
    const entry = await rig.entry(response.headers.get('x-request-id')!)
    expect(entry.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(entry.traceId).toBe(upstreamTrace(word))
  })

  it('a client trace: the entry names the client\'s trace', async () => {
    const word = uniqueWord('clienttrace')
    const { response } = await rig.client.chat.completions.create(
      { model: 'a/m', messages: [{ role: 'user', content: word }] },
      { headers: { traceparent: `00-${CLIENT_TRACE}-b7ad6b7169203331-01` } },
    ).withResponse()
    const entry = await rig.entry(response.headers.get('x-request-id')!)
    expect(entry.traceId).toBe(CLIENT_TRACE)
    expect(upstreamTrace(word)).toBe(CLIENT_TRACE)
  })
})

describe('trace ids without otel()', () => {
  let rig: LogsRig
  beforeAll(async () => { rig = await startLogsRig() })
  afterAll(() => rig?.close())

  it('the caller\'s traceparent is kept; no traceparent, no trace id', async () => {
    const traced = await rig.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: 'hi' }] }, { headers: { traceparent: `00-${CLIENT_TRACE}-b7ad6b7169203331-01` } }).withResponse()
    const plain = await rig.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    expect((await rig.entry(traced.response.headers.get('x-request-id')!)).traceId).toBe(CLIENT_TRACE)
    expect((await rig.entry(plain.response.headers.get('x-request-id')!)).traceId).toBeUndefined()
  })
})
