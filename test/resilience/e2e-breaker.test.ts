/**
 * The circuit breaker end to end (config: minRequests 3, failureRatio 0.5, cooldown 1 s): a failing target's
 * circuit opens, after which the target is never called (so it costs no latency); after the cooldown one probe
 * goes through and closes the circuit, or re-opens it; with every target open the client gets a 503 with a
 * retry-after in the OpenAI error shape. A few real sleeps (the cooldown) are the only waits.
 *
 * Where a test needs a circuit to stay open while it makes several requests, the failures carry
 * `retry-after: 30` (the breaker keeps a circuit open that long when the upstream asks), so the test never
 * races the cooldown; the retry plugin (maxRetryAfterMs 2 s) does not wait that long and moves on at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsTo, chat, chatError, eventually, freshPair, recordsOf, sleep, startE2E, type E2E } from './e2e-helpers.ts'

const COOLDOWN_MS = 1_000

let e2e: E2E
beforeAll(async () => {
  e2e = await startE2E()
})
afterAll(async () => {
  await e2e?.close()
})

/**
 * Opens the first target's circuit with three failed attempts on A (B answers each request). `holdOpen`: the
 * failures ask for retry-after 30 s, which keeps the circuit open past the test.
 */
async function openFirstTarget(pair: ReturnType<typeof freshPair>, holdOpen = false) {
  if (holdOpen) {
    for (let i = 0; i < 3; i++) {
      const result = await chat(e2e.client, pair.alias, `fail ${i} [${pair.alpha}: error 503] [${pair.alpha}: retry-after 30]`)
      expect(result.headers.get('x-sluice-provider')).toBe('b')
      expect(result.headers.get('x-sluice-attempts')).toBe('2') // no retry: 30 s is beyond maxRetryAfterMs
    }
    expect(callsTo(e2e.a, pair.alpha)).toBe(3)
    return
  }
  const failing = `[${pair.alpha}: error 500]`
  const first = await chat(e2e.client, pair.alias, `warm up ${failing}`)
  expect(first.headers.get('x-sluice-attempts')).toBe('3') // A, A again, then B
  const second = await chat(e2e.client, pair.alias, `trip ${failing}`)
  // A's third failure opens its circuit; the retry is refused by the breaker without a call, so B answers
  expect(second.headers.get('x-sluice-provider')).toBe('b')
  expect(second.headers.get('x-sluice-attempts')).toBe('2')
  expect(callsTo(e2e.a, pair.alpha)).toBe(3)
}

describe('breaker', () => {
  it('opens after failures; then the open target is never called, and every request costs one attempt', async () => {
    const pair = freshPair()
    await openFirstTarget(pair, true)
    for (let i = 0; i < 5; i++) {
      const result = await chat(e2e.client, pair.alias, `skip ${i} [${pair.alpha}: error 500]`)
      expect(result.headers.get('x-sluice-provider')).toBe('b')
      expect(result.headers.get('x-sluice-attempts')).toBe('1')
      await eventually(() => expect(recordsOf(result.id)).toHaveLength(1))
      expect(recordsOf(result.id)[0]).toMatchObject({ status: 200, attempts: 1, provider: 'b' })
    }
    expect(callsTo(e2e.a, pair.alpha)).toBe(3) // unchanged: the dead target was skipped, not called
    expect(callsTo(e2e.b, pair.beta)).toBe(8)
  })

  it('after the cooldown, one probe goes through; its success closes the circuit', async () => {
    const pair = freshPair()
    await openFirstTarget(pair)
    await sleep(COOLDOWN_MS + 50)
    const probe = await chat(e2e.client, pair.alias, 'probe, healthy again')
    expect(probe.headers.get('x-sluice-provider')).toBe('a')
    expect(probe.headers.get('x-sluice-attempts')).toBe('1')
    expect(callsTo(e2e.a, pair.alpha)).toBe(4)
    // closed: the first target serves again, every time
    for (let i = 0; i < 3; i++) {
      const result = await chat(e2e.client, pair.alias, `closed ${i}`)
      expect(result.headers.get('x-sluice-provider')).toBe('a')
    }
    expect(callsTo(e2e.a, pair.alpha)).toBe(7)
  })

  it('a failed probe re-opens the circuit for another cooldown', async () => {
    const pair = freshPair()
    await openFirstTarget(pair)
    await sleep(COOLDOWN_MS + 50)
    const probe = await chat(e2e.client, pair.alias, `probe [${pair.alpha}: error 503] [${pair.alpha}: retry-after 30]`)
    // one probe on A (failed: the circuit re-opens, for the 30 s the upstream asked), then B
    expect(probe.headers.get('x-sluice-provider')).toBe('b')
    expect(probe.headers.get('x-sluice-attempts')).toBe('2')
    expect(callsTo(e2e.a, pair.alpha)).toBe(4)
    const next = await chat(e2e.client, pair.alias, 'right after the failed probe')
    expect(next.headers.get('x-sluice-provider')).toBe('b')
    expect(next.headers.get('x-sluice-attempts')).toBe('1')
    expect(callsTo(e2e.a, pair.alpha)).toBe(4)
  })

  it('with every target open: 503 circuit_open with retry-after, in the OpenAI error shape, without calling anyone', async () => {
    const pair = freshPair()
    const both = `[${pair.alpha}: error 503] [${pair.alpha}: retry-after 30] [${pair.beta}: error 503] [${pair.beta}: retry-after 30]`
    for (let i = 0; i < 3; i++) {
      const error = await chatError(e2e.client, pair.alias, `all down ${i} ${both}`)
      // both targets failed once each: the last upstream error goes back as it was
      expect(error.status).toBe(503)
      expect(error.code).not.toBe('circuit_open')
      expect(error.headers?.get('x-sluice-attempts')).toBe('2')
    }
    const calls = callsTo(e2e.a, pair.alpha) + callsTo(e2e.b, pair.beta)

    const response = await fetch(`${e2e.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: pair.alias, messages: [{ role: 'user', content: 'anyone?' }] }),
    })
    expect(response.status).toBe(503)
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(response.headers.get('x-sluice-attempts')).toBe('0')
    const body = await response.json()
    expect(body).toEqual({ error: { message: expect.stringContaining('circuit open'), type: 'api_error', param: null, code: 'circuit_open' } })
    expect(callsTo(e2e.a, pair.alpha) + callsTo(e2e.b, pair.beta)).toBe(calls)
    const id = response.headers.get('x-request-id')
    await eventually(() => expect(recordsOf(id)).toHaveLength(1))
    expect(recordsOf(id)[0]).toMatchObject({ status: 503, attempts: 0 })

    // the official client sees the same
    const error = await chatError(e2e.client, pair.alias, 'anyone at all?')
    expect(error.status).toBe(503)
    expect(error.code).toBe('circuit_open')
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(20) // the upstreams asked for 30 s
    expect(callsTo(e2e.a, pair.alpha) + callsTo(e2e.b, pair.beta)).toBe(calls)
  })

  it('an open circuit on a streamed request: the stream comes whole from the second target', async () => {
    const pair = freshPair()
    await openFirstTarget(pair, true)
    const result = await chat(e2e.client, pair.alias, 'stream while A is open', { stream: true })
    expect(result.streamError).toBeUndefined()
    expect(result.text).toBe('echo: stream while A is open')
    expect(result.headers.get('x-sluice-provider')).toBe('b')
    expect(result.headers.get('x-sluice-attempts')).toBe('1')
    expect(callsTo(e2e.a, pair.alpha)).toBe(3)
  })

  it('streams that break after their first byte count too: a target that keeps stalling mid-stream gets skipped', async () => {
    const pair = freshPair()
    for (let i = 0; i < 3; i++) {
      const result = await chat(e2e.client, pair.alias, `stall ${i} [${pair.alpha}: stall]`, { stream: true })
      expect(result.streamError).toMatchObject({ code: 'idle_timeout' }) // after the first byte: never retried
      expect(result.headers.get('x-sluice-attempts')).toBe('1')
    }
    expect(callsTo(e2e.a, pair.alpha)).toBe(3)
    const next = await chat(e2e.client, pair.alias, `after the stalls [${pair.alpha}: stall]`, { stream: true })
    expect(next.streamError).toBeUndefined()
    expect(next.headers.get('x-sluice-provider')).toBe('b')
    expect(callsTo(e2e.a, pair.alpha)).toBe(3)
  })
})
