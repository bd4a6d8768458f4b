import { describe, expect, it } from 'vitest'
import { breaker, Circuit, type CircuitSettings } from '../../plugins/breaker/index.ts'
import { scriptedProvider } from '../../testing/index.ts'
import { FakeClock, fakeProvider, resilienceGateway, turnsUntil } from './fakes.ts'

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
    const gateway = await resilienceGateway([p, breaker(options)], clock)
    for (let i = 0; i < 4; i++) expect((await gateway.request('p/m')).status).toBe(500)
    expect(gateway.breakers().states()).toEqual([{ target: 'p/m', state: 'open', failures: 4, requests: 4 }])

    const refused = await gateway.request('p/m')
    expect(refused.status).toBe(503)
    expect(refused.error?.code).toBe('circuit_open')
    expect(refused.headers.get('retry-after')).toBe('5')
    expect(refused.record).toMatchObject({ status: 503, attempts: 0 })
    expect(p.calls).toHaveLength(4)

    clock.advance(5_000)
    healthy = true
    expect(gateway.breakers().states()[0]!.state).toBe('half-open')
    expect((await gateway.request('p/m')).servedBy).toBe('p/m')
    expect(gateway.breakers().states()[0]!.state).toBe('closed')
    expect(p.calls).toHaveLength(5)
  })

  it('counts only configured failures: a 400 is a sign of life', async () => {
    const gateway = await resilienceGateway([fakeProvider('p', [400]), breaker(options)])
    for (let i = 0; i < 6; i++) await gateway.request('p/m')
    expect(gateway.breakers().states()[0]).toMatchObject({ state: 'closed', failures: 0, requests: 6 })
  })

  it('counts timeouts, connection errors, 429 and resolved 5xx by default', async () => {
    const gateway = await resilienceGateway([fakeProvider('p', ['timeout', 'connection', 429, 'resolved-500']), breaker({ minRequests: 10 })])
    for (let i = 0; i < 4; i++) await gateway.request('p/m')
    expect(gateway.breakers().states()[0]).toMatchObject({ failures: 4, requests: 4 })
  })

  it('failOn narrows what counts', async () => {
    const gateway = await resilienceGateway([fakeProvider('p', [429, 500]), breaker({ minRequests: 10, failOn: ['5xx'] })])
    await gateway.request('p/m')
    await gateway.request('p/m')
    expect(gateway.breakers().states()[0]).toMatchObject({ failures: 1, requests: 2 })
  })

  it('a client abort neither counts nor keeps a probe slot', async () => {
    const clock = new FakeClock()
    let mode: 'fail' | 'hang' | 'ok' = 'fail'
    const p = fakeProvider('p', () => (mode === 'fail' ? 500 : mode), clock)
    const gateway = await resilienceGateway([p, breaker(options)], clock)
    for (let i = 0; i < 4; i++) await gateway.request('p/m')
    clock.advance(5_000)
    mode = 'hang'
    const controller = new AbortController()
    const pending = gateway.request('p/m', { signal: controller.signal })
    await turnsUntil(() => p.calls.length === 5) // the probe reached the provider
    controller.abort(new DOMException('gone', 'AbortError'))
    expect((await pending).record.outcome).toBe('client_abort')
    expect(gateway.breakers().states()[0]!.state).toBe('half-open')
    mode = 'ok'
    expect((await gateway.request('p/m')).servedBy).toBe('p/m')
    expect(gateway.breakers().states()[0]!.state).toBe('closed')
  })

  it('a stream that breaks after its first byte counts as a failure once it broke; a completed or abandoned one does not', async () => {
    const clock = new FakeClock()
    // stall: one chunk, then an idle timeout; ok: a complete stream; linger: one chunk, then waits for the client
    let ending: 'stall' | 'ok' | 'linger' = 'stall'
    const gateway = await resilienceGateway([fakeProvider('p', () => ending), breaker(options)], clock)
    const counts = () => gateway.breakers().states()[0]!

    const broken = await gateway.request('p/m', { stream: true })
    expect(broken.status).toBe(200)
    expect(broken.record).toMatchObject({ status: 504, outcome: 'timeout_error' })
    expect(counts()).toMatchObject({ state: 'closed', failures: 1, requests: 1 })
    ending = 'ok'
    expect((await gateway.request('p/m', { stream: true })).record.outcome).toBe('ok')
    expect(counts()).toMatchObject({ failures: 1, requests: 2 })
    ending = 'linger'
    const left = await gateway.request('p/m', { stream: true, leaveAfterFirstChunk: true })
    expect(left.record.outcome).toBe('client_abort') // the client left: says nothing about the upstream
    expect(counts()).toMatchObject({ failures: 1, requests: 2 })
    ending = 'stall'
    await gateway.request('p/m', { stream: true })
    await gateway.request('p/m', { stream: true })
    expect(counts()).toMatchObject({ state: 'open', failures: 3, requests: 4 })
    expect((await gateway.request('p/m', { stream: true })).status).toBe(503)

    // after the cooldown a streamed probe is judged at its first byte: it closes the circuit at once
    clock.advance(5_000)
    ending = 'linger'
    const probe = await gateway.request('p/m', { stream: true, leaveAfterFirstChunk: true })
    expect(probe.status).toBe(200)
    expect(counts().state).toBe('closed')
  })

  it('judges a stream in the neutral view (deltas) the same way: broken counts, completed does not', async () => {
    let dies = true
    const p = scriptedProvider({ name: 'p', replies: () => (dies ? { text: 'one two three', dieAfter: 1 } : { text: 'one two three' }) })
    const gateway = await resilienceGateway([p, breaker({ minRequests: 10 })])
    const broken = await gateway.request('p/m', { stream: true })
    expect(broken.text).toContain('connection_error')
    expect(gateway.breakers().states()[0]).toMatchObject({ failures: 1, requests: 1 })
    dies = false
    expect((await gateway.request('p/m', { stream: true })).record.outcome).toBe('ok')
    expect(gateway.breakers().states()[0]).toMatchObject({ failures: 1, requests: 2 })
  })

  it('provides blockedFor(target) for the router', async () => {
    const clock = new FakeClock()
    const gateway = await resilienceGateway([fakeProvider('p', [503]), breaker(options)], clock)
    const target = { provider: 'p', model: 'm' }
    expect(gateway.breakers().blockedFor(target)).toBe(0)
    for (let i = 0; i < 4; i++) await gateway.request('p/m')
    expect(gateway.breakers().blockedFor(target)).toBe(5_000)
    clock.advance(2_000)
    expect(gateway.breakers().blockedFor(target)).toBe(3_000)
  })

  it('refuses bad options with one clear line', () => {
    expect(() => breaker({ failureRatio: 2 })).toThrow(/breaker: option "failureRatio"/)
    expect(() => breaker({ redis: 'localhost:6379' })).toThrow(/breaker: option "redis"/)
  })

  it('never shows the redis URL in its options', () => {
    expect(JSON.stringify(breaker({ redis: 'redis://:secret@127.0.0.1:6379' }).options)).not.toContain('secret')
  })
})

