/**
 * `/metrics` names its replica on every sample: `metrics({ replica: 'name' })`, or `true` / SLUICE_REPLICA set
 * (SLUICE_REPLICA, else the host name); without either the samples carry no such label.
 */
import { hostname } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { replicaId } from '../../core/replica.ts'
import { startServer, type RunningServer } from '../../core/server.ts'
import { metrics } from '../../plugins/index.ts'
import { echo } from '../../plugins/providers/index.ts'

let server: RunningServer
afterAll(() => server?.close())

describe('the replica label', () => {
  it('is on every sample of /metrics', async () => {
    server = await startServer(resolveConfig({ server: { port: 0 }, storage: { driver: 'memory' }, plugins: [echo(), metrics({ replica: 'eu-1-b' })] }), { logger: createLogger('silent') })
    const chat = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo/m', messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(chat.status).toBe(200)
    await chat.text()
    let text = ''
    for (let i = 0; i < 50 && !/^sluice_requests_total\{/m.test(text); i++) {
      text = await (await fetch(`${server.url}/metrics`)).text()
      await new Promise((r) => setTimeout(r, 20))
    }
    const samples = text.split('\n').filter((line) => line && !line.startsWith('#'))
    expect(samples.find((line) => line.startsWith('sluice_requests_total{'))).toMatch(/replica="eu-1-b"/)
    expect(samples.filter((line) => !line.includes('replica="eu-1-b"'))).toEqual([])
  })

  it('defaults to SLUICE_REPLICA, else the host name', () => {
    expect(replicaId({ SLUICE_REPLICA: 'pod-7' })).toBe('pod-7')
    expect(replicaId({})).toBe(hostname())
    expect(replicaId({ SLUICE_REPLICA: 'bad name with spaces' })).toBe(hostname())
  })
})
