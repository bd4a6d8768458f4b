import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../core/errors.ts'
import { timeoutError } from '../../core/upstream.ts'
import { breaker, Circuit, type CircuitSettings } from '../../plugins/breaker/index.ts'
import { breakersOf, createTestGateway, FakeClock, fakeProvider, servedBy, statusOf } from './harness.ts'

const settings: CircuitSettings = { failureRatio: 0.5, minRequests: 4, windowMs: 10_000, buckets: 10, cooldownMs: 5_000, maxCooldownMs: 60_000, halfOpenProbes: 1 }

function admitted(permit: ReturnType<Circuit['acquire']>) {
  if ('retryAfterMs' in permit) throw new Error(`refused for ${permit.retryAfterMs} ms`)
  return permit
}

describe('circuit', () => {
  it('stays closed below the minimum request count, whatever the ratio', () => {
    const circuit = new Circuit('p/m', settings)
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit.acquire(0)), 0)
    expect(circuit.state(0)).toBe('closed')
    circuit.failure(admitted(circuit.acquire(0)), 0)
    expect(circuit.state(0)).toBe('open')
  })

  it('opens on the failure ratio over the window, not on old failures', () => {
    const circuit = new Circuit('p/m', settings)
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit.acquire(0)), 0)
    // Those failures leave the window; fresh traffic is mostly healthy.
    const later = 20_000
    for (let i = 0; i < 3; i++) circuit.success(admitted(circuit.acquire(later)), later)
    circuit.failure(admitted(circuit.acquire(later)), later)
    expect(circuit.state(later)).toBe('closed')
    expect(circuit.counts(later)).toEqual({ requests: 4, failures: 1 })
    circuit.failure(admitted(circuit.acquire(later)), later)
    circuit.failure(admitted(circuit.acquire(later)), later)
    expect(circuit.state(later)).toBe('open') // 3 of 6
  })

  it('refuses while open, then admits limited probes; a probe success closes it', () => {
    const circuit = new Circuit('p/m', { ...settings, halfOpenProbes: 2 })
    for (let i = 0; i < 4; i++) circuit.failure(admitted(circuit.acquire(0)), 0)
    expect(circuit.acquire(1_000)).toEqual({ retryAfterMs: 4_000 })
    expect(circuit.blockedFor(1_000)).toBe(4_000)
    expect(circuit.blockedFor(5_000)).toBe(0)
    const probe1 = admitted(circuit.acquire(5_000))
    const probe2 = admitted(circuit.acquire(5_000))
    expect(probe1.probe && probe2.probe).toBe(true)
    expect(circuit.state(5_000)).toBe('half-open')
    expect('retryAfterMs' in circuit.acquire(5_000)).toBe(true)
    expect(circuit.blockedFor(5_000)).toBeGreaterThan(0)
    circuit.success(probe1, 5_100)
    expect(circuit.state(5_100)).toBe('closed')
    circuit.failure(probe2, 5_200) // stale: the circuit moved on
    expect(circuit.state(5_200)).toBe('closed')
    expect(circuit.counts(5_200)).toEqual({ requests: 0, failures: 0 })
  })

  it('a failed probe opens it again for another cooldown', () => {
    const circuit = new Circuit('p/m', settings)
    for (let i = 0; i < 4; i++) circuit.failure(admitted(circuit.acquire(0)), 0)
    circuit.failure(admitted(circuit.acquire(5_000)), 5_000)
    expect(circuit.state(5_000)).toBe('open')
    expect(circuit.blockedFor(6_000)).toBe(4_000)
  })

  it("stays open for the upstream's retry-after when longer than the cooldown, up to a cap", () => {
    const circuit = new Circuit('p/m', settings)
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit.acquire(0)), 0)
    circuit.failure(admitted(circuit.acquire(0)), 0, 20_000)
    expect(circuit.blockedFor(0)).toBe(20_000)
    const capped = new Circuit('p/m', settings)
    for (let i = 0; i < 4; i++) capped.failure(admitted(capped.acquire(0)), 0, 600_000)
    expect(capped.blockedFor(0)).toBe(60_000)
  })

  it('a released probe frees its slot without changing state', () => {
    const circuit = new Circuit('p/m', settings)
    for (let i = 0; i < 4; i++) circuit.failure(admitted(circuit.acquire(0)), 0)
    circuit.release(admitted(circuit.acquire(5_000)))
    expect(circuit.state(5_000)).toBe('half-open')
    expect(admitted(circuit.acquire(5_000)).probe).toBe(true)
  })
})

describe('breaker plugin', () => {
  const options = { minRequests: 4, failureRatio: 0.5, cooldownMs: 5_000 }

  it('opens after failures, fails fast without calling the provider, probes, and closes', async () => {
    const clock = new FakeClock()
    let healthy = false
    const p = fakeProvider('p', () => (healthy ? 'ok' : 500), clock)
    const gateway = await createTestGateway([breaker(options)], [p], clock)
    for (let i = 0; i < 4; i++) expect(statusOf(await gateway.request('p/m'))).toBe(500)
    expect(breakersOf(gateway).states()).toEqual([{ target: 'p/m', state: 'open', failures: 4, requests: 4 }])

    const refused = await gateway.request('p/m')
    expect(statusOf(refused)).toBe(503)
    expect((refused as any).error.code).toBe('circuit_open')
    expect((refused as any).error.retryAfter).toBe(5)
    expect(p.calls).toHaveLength(4)

    clock.advance(5_000)
    healthy = true
    expect(breakersOf(gateway).states()[0]!.state).toBe('half-open')
    expect(servedBy(await gateway.request('p/m'))).toBe('p/m')
    expect(breakersOf(gateway).states()[0]!.state).toBe('closed')
    expect(p.calls).toHaveLength(5)
  })

  it('counts only configured failures: a 400 is a sign of life', async () => {
    const p = fakeProvider('p', [400])
    const gateway = await createTestGateway([breaker(options)], [p])
    for (let i = 0; i < 6; i++) await gateway.request('p/m')
    expect(breakersOf(gateway).states()[0]).toMatchObject({ state: 'closed', failures: 0, requests: 6 })
  })

  it('counts timeouts, connection errors, 429 and resolved 5xx by default', async () => {
    const p = fakeProvider('p', ['timeout', 'connection', 429, 'resolved-500'])
    const gateway = await createTestGateway([breaker({ minRequests: 10 })], [p])
    for (let i = 0; i < 4; i++) await gateway.request('p/m')
    expect(breakersOf(gateway).states()[0]).toMatchObject({ failures: 4, requests: 4 })
  })

  it('failOn narrows what counts', async () => {
    const p = fakeProvider('p', [429, 500])
    const gateway = await createTestGateway([breaker({ minRequests: 10, failOn: ['5xx'] })], [p])
    await gateway.request('p/m')
    await gateway.request('p/m')
    expect(breakersOf(gateway).states()[0]).toMatchObject({ failures: 1, requests: 2 })
  })

  it('a client abort neither counts nor keeps a probe slot', async () => {
    const clock = new FakeClock()
    let mode: 'fail' | 'hang' | 'ok' = 'fail'
    const p = fakeProvider('p', () => (mode === 'fail' ? 500 : mode), clock)
    const gateway = await createTestGateway([breaker(options)], [p], clock)
    for (let i = 0; i < 4; i++) await gateway.request('p/m')
    clock.advance(5_000)
    mode = 'hang'
    const controller = new AbortController()
    const pending = gateway.request('p/m', { signal: controller.signal })
    await Promise.resolve()
    controller.abort(new DOMException('gone', 'AbortError'))
    expect(((await pending) as any).error.name).toBe('AbortError')
    mode = 'ok'
    expect(servedBy(await gateway.request('p/m'))).toBe('p/m')
  })

  it('a stream that breaks after its first byte counts as a failure once it broke; a completed or abandoned one does not', async () => {
    const clock = new FakeClock()
    let ending: 'complete' | 'idle' | 'abandon' = 'idle'
    const chunk = new TextEncoder().encode('data: {}\n\n')
    const streamer = {
      name: 'p',
      formats: ['openai-chat' as const],
      async call() {
        async function* body() {
          yield chunk
          if (ending === 'idle') throw timeoutError('idle', 300)
          yield chunk
        }
        return { status: 200, headers: new Headers(), format: 'openai-chat' as const, stream: body() }
      },
    }
    const gateway = await createTestGateway([breaker(options)], [streamer], clock)
    const consume = async (stopEarly = false) => {
      const result = await gateway.request('p/m')
      if (!result.ok) return result
      const iterator = result.response.stream![Symbol.asyncIterator]()
      await iterator.next()
      if (stopEarly) await iterator.return!()
      else await iterator.next().then(() => iterator.next()).catch(() => {})
      return result
    }
    const counts = () => breakersOf(gateway).states()[0]!

    await consume()
    expect(counts()).toMatchObject({ state: 'closed', failures: 1, requests: 1 })
    ending = 'complete'
    await consume()
    expect(counts()).toMatchObject({ failures: 1, requests: 2 })
    ending = 'abandon'
    await consume(true) // the client left: says nothing about the upstream
    expect(counts()).toMatchObject({ failures: 1, requests: 2 })
    ending = 'idle'
    await consume()
    await consume()
    expect(counts()).toMatchObject({ state: 'open', failures: 3, requests: 4 })
    expect(statusOf(await gateway.request('p/m'))).toBe(503)

    // after the cooldown a streamed probe is judged at its first byte: it closes the circuit at once
    clock.advance(5_000)
    const probe = await gateway.request('p/m')
    expect(probe.ok).toBe(true)
    expect(counts().state).toBe('closed')
  })

  it('provides blockedFor(target) for the router', async () => {
    const clock = new FakeClock()
    const gateway = await createTestGateway([breaker(options)], [fakeProvider('p', [503])], clock)
    const target = { provider: 'p', model: 'm' }
    expect(breakersOf(gateway).blockedFor(target)).toBe(0)
    for (let i = 0; i < 4; i++) await gateway.request('p/m')
    expect(breakersOf(gateway).blockedFor(target)).toBe(5_000)
    clock.advance(2_000)
    expect(breakersOf(gateway).blockedFor(target)).toBe(3_000)
  })

  it('refuses bad options with one clear line', () => {
    expect(() => breaker({ failureRatio: 2 })).toThrow(/breaker: option "failureRatio"/)
    expect(() => breaker({ redis: 'localhost:6379' })).toThrow(/breaker: option "redis"/)
  })

  it('never shows the redis URL in its options', () => {
    expect(JSON.stringify(breaker({ redis: 'redis://:secret@127.0.0.1:6379' }).options)).not.toContain('secret')
  })
})

export { GatewayError }
