/**
 * The `latency` and `least-inflight` strategies end to end: with one upstream slower (a delay before its
 * headers), the router sends requests to the better target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsTo, chat, eventually, startE2E, type E2E } from './e2e-helpers.ts'

let e2e: E2E
beforeAll(async () => {
  e2e = await startE2E()
})
afterAll(async () => {
  await e2e?.close()
})

describe('strategies', () => {
  it('latency: once both targets are measured, the faster one gets every request (explore: 0)', async () => {
    const slowA = '[fastest-alpha: delay 150]'
    const providers: string[] = []
    for (let i = 0; i < 7; i++) {
      const result = await chat(e2e.client, 'fastest', `which one ${i} ${slowA}`)
      providers.push(result.headers.get('x-sluice-provider')!)
    }
    // unmeasured targets go first (config order), so A and B are each tried once; then B, the faster, always
    expect(providers.slice(0, 2)).toEqual(['a', 'b'])
    expect(providers.slice(2)).toEqual(['b', 'b', 'b', 'b', 'b'])
    expect(callsTo(e2e.a, 'fastest-alpha')).toBe(1)
  })

  it('least-inflight: while the slow target is busy, new requests go to the idle one', async () => {
    const slowA = '[busy-alpha: delay 1500]'
    const busy = chat(e2e.client, 'least-busy', `long one ${slowA}`)
    await eventually(() => expect(callsTo(e2e.a, 'busy-alpha')).toBe(1))
    const providers: string[] = []
    for (let i = 0; i < 4; i++) {
      const result = await chat(e2e.client, 'least-busy', `short ${i} ${slowA}`)
      providers.push(result.headers.get('x-sluice-provider')!)
    }
    expect(providers).toEqual(['b', 'b', 'b', 'b'])
    const first = await busy
    expect(first.headers.get('x-sluice-provider')).toBe('a')
    expect(callsTo(e2e.a, 'busy-alpha')).toBe(1)
  })

  it('least-inflight: a burst of concurrent requests spreads over both targets', async () => {
    const before = { a: callsTo(e2e.a, 'busy-alpha'), b: callsTo(e2e.b, 'busy-beta') }
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(e2e.client, 'least-busy', `burst ${i} [busy-alpha: delay 500] [busy-beta: delay 500]`)))
    const served = results.map((r) => r.headers.get('x-sluice-provider'))
    expect(served.filter((p) => p === 'a')).toHaveLength(5)
    expect(served.filter((p) => p === 'b')).toHaveLength(5)
    expect(callsTo(e2e.a, 'busy-alpha') - before.a).toBe(5)
    expect(callsTo(e2e.b, 'busy-beta') - before.b).toBe(5)
  })
})
