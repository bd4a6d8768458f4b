/**
 * Property, end to end: N concurrent requests (streamed or not) through the real server while both targets of
 * an alias fail at random, in every way the mock knows. Whatever happens, every request gets exactly one
 * response that ends (an answer, an error in the OpenAI shape, or a stream closed by an error event), leaves
 * exactly one record, and reports as many attempts as the upstreams actually received; afterwards nothing is
 * left in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import OpenAI from 'openai'
import { chat, eventually, records, recordsOf, startE2E, uniqueTag, type E2E } from './e2e-helpers.ts'

let e2e: E2E
beforeAll(async () => {
  e2e = await startE2E()
})
afterAll(async () => {
  await e2e?.close()
})

const fault = fc.record({
  directive: fc.constantFrom(undefined, 'error 500', 'error 503', 'error 429', 'error 400', 'hang', 'reset', 'badjson', 'stall', 'die'),
  /** Only the first delivery of this message fails (a retry then succeeds). */
  once: fc.boolean(),
})
const request = fc.record({ stream: fc.boolean(), alpha: fault, beta: fault })

function scoped(model: string, f: { directive?: string; once: boolean }): string {
  return f.directive ? ` [${model}${f.once ? ' x1' : ''}: ${f.directive}]` : ''
}

type Outcome =
  | { kind: 'answer' | 'stream-error'; status: number; headers: Headers }
  | { kind: 'error'; status: number; headers: Headers | undefined }

async function send(alias: string, tag: string, content: string, stream: boolean): Promise<Outcome> {
  try {
    const result = await chat(e2e.client, alias, content, { clientId: tag, stream })
    return { kind: result.streamError ? 'stream-error' : 'answer', status: result.status, headers: result.headers }
  } catch (error) {
    // An APIError with a status is an HTTP answer; anything else (no response, a client timeout) fails the property.
    if (error instanceof OpenAI.APIError && typeof error.status === 'number') return { kind: 'error', status: error.status, headers: error.headers }
    throw error
  }
}

/** Upstream requests (on either mock) that carried this request's message (its tag). */
function upstreamAttempts(tag: string): number {
  const carries = (r: { body: any }) => JSON.stringify(r.body?.messages ?? '').includes(tag)
  return e2e.a.requests.filter(carries).length + e2e.b.requests.filter(carries).length
}

describe('resilience end to end: properties', () => {
  it('every request gets exactly one response and one record, with honest attempts, whatever fails', async () => {
    let run = 0
    await fc.assert(fc.asyncProperty(fc.array(request, { minLength: 8, maxLength: 24 }), async (batch) => {
      // Each run has targets (and circuits) of its own: `chaos-N` → a/chaos-N-alpha, b/chaos-N-beta.
      const alias = `chaos-${run++}`
      const tags = batch.map(() => uniqueTag('chaos'))
      const outcomes = await Promise.all(batch.map((r, i) =>
        send(alias, tags[i]!, `chaos ${tags[i]}${scoped(`${alias}-alpha`, r.alpha)}${scoped(`${alias}-beta`, r.beta)}`, r.stream)))
      // Every response carries the gateway's own id (the key of its record) and echoes the client's.
      const ids = outcomes.map((outcome) => outcome.headers?.get('x-request-id'))
      outcomes.forEach((outcome, i) => expect(outcome.headers?.get('x-client-request-id')).toBe(tags[i]))
      expect(new Set(ids).size).toBe(ids.length)

      await eventually(() => {
        for (const id of ids) expect(recordsOf(id)).toHaveLength(1)
      })
      outcomes.forEach((outcome, i) => {
        const record = recordsOf(ids[i])[0]!
        const attempts = Number(outcome.headers?.get('x-sluice-attempts'))
        expect(record.clientRequestId).toBe(tags[i])
        expect(attempts).toBe(upstreamAttempts(tags[i]!))
        expect(record.attempts).toBe(attempts)
        if (outcome.kind === 'answer') expect(record).toMatchObject({ status: 200, outcome: 'ok' })
        else if (outcome.kind === 'error') expect(record.status).toBe(outcome.status)
        else expect(record.status).toBeGreaterThanOrEqual(500) // the stream ended with an error event after a 200
        // streamed failures happen only after the first byte, so they were never retried
        if (outcome.kind === 'stream-error') expect(attempts).toBeGreaterThanOrEqual(1)
      })
      await eventually(() => expect(e2e.gateway.server.current().pipeline.inflight).toBe(0))
    }), { numRuns: 6, seed: 20240607, endOnFailure: true })
    expect(records().length).toBeGreaterThan(0)
  }, 120_000)
})
