/**
 * Each way an upstream can fail, end to end through the real server and the official `openai` client: the
 * gateway retries it on the same target, falls back to the second target (also for streams, before the first
 * byte), never falls back on a 400, never retries once bytes reached the client, and says how many attempts
 * it made (x-sluice-attempts) and in its record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsTo, chat, chatError, eventually, freshPair, recordsOf, startE2E, uniqueTag, type E2E } from './e2e-helpers.ts'

let e2e: E2E
beforeAll(async () => {
  e2e = await startE2E()
})
afterAll(async () => {
  await e2e?.close()
})

/** Failures that happen before the first byte: all retryable and a reason to fall back. */
const KINDS = [
  { kind: '500', directive: 'error 500' },
  { kind: '503', directive: 'error 503' },
  { kind: '429 with retry-after', directive: 'error 429', waitsMs: 1_000 }, // the mock sends retry-after: 1
  { kind: 'hang (first-byte timeout)', directive: 'hang' },
  { kind: 'connection reset before headers', directive: 'reset' },
  { kind: 'invalid JSON body', directive: 'badjson' },
  { kind: 'JSON body stalling midway (idle timeout)', directive: 'stall' },
]

/** The request (by the gateway's id) left exactly one record, carrying the client's tag as its correlation id. */
async function expectOneRecord(id: string | null | undefined, tag: string, expected: Record<string, unknown>) {
  await eventually(() => expect(recordsOf(id)).toHaveLength(1))
  expect(recordsOf(id)[0]).toMatchObject({ ...expected, clientRequestId: tag })
}

describe.each(KINDS)('upstream failure: $kind', ({ directive, waitsMs }) => {
  it('is retried on the same target, and the client gets the answer', async () => {
    const { alias, alpha, beta } = freshPair()
    const tag = uniqueTag('retried')
    const content = `retry me ${tag} [${alpha} x1: ${directive}]`
    const result = await chat(e2e.client, alias, content, { clientId: tag })
    expect(result.text).toContain(`echo: retry me ${tag}`)
    expect(result.headers.get('x-sluice-provider')).toBe('a')
    expect(result.headers.get('x-sluice-model')).toBe(alpha)
    expect(result.headers.get('x-sluice-attempts')).toBe('2')
    expect(callsTo(e2e.a, alpha)).toBe(2)
    expect(callsTo(e2e.b, beta)).toBe(0)
    await expectOneRecord(result.id, tag, { status: 200, outcome: 'ok', provider: 'a', upstreamModel: alpha, attempts: 2 })
    // the upstream's retry-after was honoured (a lower bound: the retry slept at least that long)
    if (waitsMs) expect(recordsOf(result.id)[0]!.latencyMs).toBeGreaterThanOrEqual(waitsMs - 50)
  })

  it('falls back to the second target once retries on the first are spent', async () => {
    const { alias, alpha, beta } = freshPair()
    const tag = uniqueTag('fallback')
    const result = await chat(e2e.client, alias, `fall back ${tag} [${alpha}: ${directive}]`, { clientId: tag })
    expect(result.text).toContain(`echo: fall back ${tag}`)
    expect(result.headers.get('x-sluice-provider')).toBe('b')
    expect(result.headers.get('x-sluice-model')).toBe(beta)
    expect(result.headers.get('x-sluice-attempts')).toBe('3')
    expect(callsTo(e2e.a, alpha)).toBe(2)
    expect(callsTo(e2e.b, beta)).toBe(1)
    await expectOneRecord(result.id, tag, { status: 200, outcome: 'ok', provider: 'b', upstreamModel: beta, attempts: 3 })
  })

  it.skipIf(directive === 'stall')('falls back before the first byte of a stream: the client gets a complete stream from the second target', async () => {
    const { alias, alpha, beta } = freshPair()
    const tag = uniqueTag('stream-fallback')
    const result = await chat(e2e.client, alias, `stream ${tag} [${alpha}: ${directive}]`, { clientId: tag, stream: true })
    expect(result.streamError).toBeUndefined()
    expect(result.text).toBe(`echo: stream ${tag} [${alpha}: ${directive}]`)
    expect(result.headers.get('x-sluice-provider')).toBe('b')
    expect(result.headers.get('x-sluice-attempts')).toBe('3')
    expect(callsTo(e2e.a, alpha)).toBe(2)
    expect(callsTo(e2e.b, beta)).toBe(1)
    await expectOneRecord(result.id, tag, { status: 200, outcome: 'ok', provider: 'b', attempts: 3, stream: true })
  })
})

describe('connection refused', () => {
  it('falls back to the second target (non-stream and stream)', async () => {
    for (const [n, stream] of [[0, false], [1, true]] as const) {
      const tag = uniqueTag('refused')
      const result = await chat(e2e.client, `refused-${n}`, `nobody home ${tag}`, { clientId: tag, stream })
      expect(result.streamError).toBeUndefined()
      expect(result.text).toBe(`echo: nobody home ${tag}`)
      expect(result.headers.get('x-sluice-provider')).toBe('b')
      // two refused connections to the dead target, then the second target
      expect(result.headers.get('x-sluice-attempts')).toBe('3')
      await expectOneRecord(result.id, tag, { status: 200, provider: 'b', attempts: 3 })
    }
  })
})

describe('no fallback on a client error', () => {
  it('a 400 from the first target goes back to the client as it was: no retry, no second target', async () => {
    const { alias, alpha, beta } = freshPair()
    const tag = uniqueTag('400')
    const error = await chatError(e2e.client, alias, `bad request ${tag} [${alpha}: error 400]`, { clientId: tag })
    expect(error.status).toBe(400)
    expect(error.type).toBe('invalid_request_error')
    expect(error.headers?.get('x-sluice-attempts')).toBe('1')
    expect(error.headers?.get('x-sluice-provider')).toBe('a')
    expect(error.headers?.get('x-client-request-id')).toBe(tag)
    expect(callsTo(e2e.a, alpha)).toBe(1)
    expect(callsTo(e2e.b, beta)).toBe(0)
    await expectOneRecord(error.headers?.get('x-request-id'), tag, { status: 400, attempts: 1 })
  })
})

describe('after the first byte', () => {
  it('a stream that stalls midway ends with an OpenAI error event (idle timeout), with no retry and no fallback', async () => {
    const { alias, alpha, beta } = freshPair()
    const tag = uniqueTag('stall')
    const result = await chat(e2e.client, alias, `stall midway ${tag} [${alpha}: stall]`, { clientId: tag, stream: true })
    expect(result.status).toBe(200)
    expect(result.text).toBe('echo: ') // the two chunks sent before the stall
    expect(result.streamError).toMatchObject({ code: 'idle_timeout', type: 'timeout_error' })
    expect(result.streamError!.message).toMatch(/idle timeout/)
    expect(result.headers.get('x-sluice-attempts')).toBe('1')
    expect(callsTo(e2e.a, alpha)).toBe(1)
    expect(callsTo(e2e.b, beta)).toBe(0)
    await expectOneRecord(result.id, tag, { status: 504, outcome: 'timeout_error', attempts: 1, provider: 'a' })
  })

  it('a connection that dies midway ends the stream with an error event, with no retry', async () => {
    const { alias, alpha, beta } = freshPair()
    const tag = uniqueTag('die')
    const result = await chat(e2e.client, alias, `die midway ${tag} [${alpha}: die]`, { clientId: tag, stream: true })
    expect(result.streamError).toBeDefined()
    expect(callsTo(e2e.a, alpha)).toBe(1)
    expect(callsTo(e2e.b, beta)).toBe(0)
    await expectOneRecord(result.id, tag, { attempts: 1, provider: 'a' })
    expect(recordsOf(result.id)[0]!.status).toBeGreaterThanOrEqual(500)
  })
})

describe('total timeout (per target)', () => {
  it('before any byte: the attempt is cut at the total deadline, retried, then the second target answers', async () => {
    const tag = uniqueTag('total')
    const result = await chat(e2e.client, 'deadline-0', `too slow ${tag} [deadline-0-alpha: delay 2000]`, { clientId: tag })
    expect(result.text).toContain(`echo: too slow ${tag}`)
    expect(result.headers.get('x-sluice-provider')).toBe('b')
    expect(result.headers.get('x-sluice-attempts')).toBe('3')
    expect(callsTo(e2e.a, 'deadline-0-alpha')).toBe(2)
    await expectOneRecord(result.id, tag, { status: 200, provider: 'b', attempts: 3 })
  })

  it('mid-stream: the stream ends with an error event naming the total timeout, with no retry', async () => {
    const tag = uniqueTag('total-stream')
    // 30 chunks 50 ms apart: never idle for long, but longer than the 800 ms total deadline
    const result = await chat(e2e.client, 'deadline-1', `long stream ${tag} [deadline-1-alpha: slow 30]`, { clientId: tag, stream: true })
    expect(result.status).toBe(200)
    expect(result.text.length).toBeGreaterThan(0)
    expect(result.streamError).toMatchObject({ code: 'total_timeout', type: 'timeout_error' })
    expect(result.headers.get('x-sluice-attempts')).toBe('1')
    expect(callsTo(e2e.a, 'deadline-1-alpha')).toBe(1)
    expect(callsTo(e2e.b, 'deadline-1-beta')).toBe(0)
    await expectOneRecord(result.id, tag, { status: 504, attempts: 1 })
  })
})
