/**
 * Export that never touches a request: a collector that refuses connections or never answers leaves requests
 * succeeding, and what is lost is counted (the `otel` service and `/metrics`); shutdown flushes, with a bound;
 * the standard OTEL_* variables configure the exporter.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { definePlugin, type PluginContext } from '../../core/index.ts'
import { metrics } from '../../plugins/index.ts'
import { eventually, freshPair, spansOf, startCollector, startRig, type Collector, type Rig } from './helpers.ts'

let rig: Rig | undefined
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  await rig?.close()
  rig = undefined
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

/** A plugin that hands the test its context, to read the `otel` service. */
function probe() {
  const holder: { gw?: PluginContext } = {}
  const plugin = definePlugin(() => ({ name: 'probe', setup(gw: PluginContext) { holder.gw = gw } }))()
  return { plugin, stats: () => holder.gw!.inject('otel')!.stats() }
}

/** A port nothing listens on. */
async function closedPortURL(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

/** A collector that accepts connections and never answers. */
async function silentCollector(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => { sockets.add(socket); socket.on('error', () => {}) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    }),
  }
}

/** A collector stand-in for rigs whose spans go elsewhere (it receives nothing). */
async function unusedCollector(): Promise<Collector> {
  return startCollector()
}

async function chatOk(r: Rig, content: string) {
  const { alias } = freshPair()
  const reply = await r.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content }] })
  expect(reply.choices[0]!.message.content).toBe(`echo: ${content}`)
}

async function metricsText(r: Rig): Promise<string> {
  const response = await r.gw.fetch('/metrics')
  return response.text()
}

describe('a dead collector', () => {
  it('(refusing connections) leaves requests succeeding, and counts the spans it lost', async () => {
    const { plugin, stats } = probe()
    rig = await startRig({ endpoint: await closedPortURL(), exportTimeoutMs: 500 }, { plugins: [metrics(), plugin] })
    for (let i = 0; i < 5; i++) await chatOk(rig, `dead collector ${i}`)
    await eventually(() => expect(stats().dropped.export_failed).toBeGreaterThanOrEqual(10), 15_000) // 5 × (server + attempt)
    expect(stats().exported).toBe(0)
    const text = await metricsText(rig)
    const line = text.split('\n').find((l) => l.startsWith('sluice_otel_spans_dropped_total{reason="export_failed"}'))
    expect(Number(line?.split(' ')[1])).toBeGreaterThanOrEqual(10)
  })

  it('(never answering) fills the bounded queue; past it spans are dropped and counted, requests unaffected', async () => {
    const silent = await silentCollector()
    cleanups.push(() => silent.close())
    const { plugin, stats } = probe()
    rig = await startRig(
      { endpoint: silent.url, maxQueueSize: 4, maxExportBatchSize: 2, exportTimeoutMs: 60_000, shutdownTimeoutMs: 100 },
      { plugins: [plugin] },
    )
    for (let i = 0; i < 10; i++) await chatOk(rig, `silent collector ${i}`)
    await eventually(() => {
      const snapshot = stats()
      expect(snapshot.queued).toBeLessThanOrEqual(4)
      expect(snapshot.dropped.queue_full).toBeGreaterThan(0)
    }, 10_000)
  })
})

describe('shutdown', () => {
  it('flushes the spans still queued when the gateway closes', async () => {
    rig = await startRig({ scheduledDelayMs: 3_600_000 })
    await chatOk(rig, 'flush me')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(rig.collector.spans).toHaveLength(0) // nothing exported yet: the batch waits for its delay
    const collector = rig.collector
    await rig.gw.close()
    expect(collector.spans.map((span) => span.kind).sort()).toEqual([2, 3])
    await Promise.all([rig.a.close(), rig.b.close(), collector.close()])
    rig = undefined
  })

  it('waits no longer than shutdownTimeoutMs for a collector that never answers, and counts what it left', async () => {
    const silent = await silentCollector()
    cleanups.push(() => silent.close())
    const { plugin, stats } = probe()
    rig = await startRig({ endpoint: silent.url, scheduledDelayMs: 3_600_000, exportTimeoutMs: 600_000, shutdownTimeoutMs: 200 }, { plugins: [plugin] })
    await chatOk(rig, 'stuck at shutdown')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(stats().queued).toBe(2)
    await rig.gw.close() // would hang for the export timeout (10 minutes) without the bound
    expect(stats().dropped.shutdown + stats().dropped.export_failed).toBe(2)
    expect(stats().queued).toBe(0)
    await Promise.all([rig.a.close(), rig.b.close(), rig.collector.close()])
    rig = undefined
  }, 30_000)
})

describe('configuration from the environment', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS and OTEL_SERVICE_NAME', async () => {
    const collector = await startCollector()
    const saved = { ...process.env }
    cleanups.push(() => {
      for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_SERVICE_NAME']) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    })
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-collector-key=env-secret'
    process.env.OTEL_SERVICE_NAME = 'gateway-under-test'
    rig = await startRig({ endpoint: undefined }, { collector })
    const { alias } = freshPair()
    const { response } = await rig.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content: 'env' }] }).withResponse()
    await eventually(() => expect(spansOf(collector, response.headers.get('x-request-id')).children).toHaveLength(1), 10_000)
    expect(spansOf(collector, response.headers.get('x-request-id')).server.resource['service.name']).toBe('gateway-under-test')
    expect(collector.requests[0]!.path).toBe('/v1/traces')
    expect(collector.requests[0]!.headers['x-collector-key']).toBe('env-secret')
  })

  it('options win over the environment; headers and serviceName from options', async () => {
    const collector = await startCollector()
    const elsewhere = await unusedCollector()
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
    cleanups.push(() => {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved
      return elsewhere.close()
    })
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = elsewhere.url
    rig = await startRig({ endpoint: `${collector.url}/v1/traces`, headers: { authorization: 'Bearer collector-token' }, serviceName: 'from-options' }, { collector })
    const { alias } = freshPair()
    const { response } = await rig.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content: 'options' }] }).withResponse()
    await eventually(() => expect(spansOf(collector, response.headers.get('x-request-id')).children).toHaveLength(1), 10_000)
    expect(spansOf(collector, response.headers.get('x-request-id')).server.resource['service.name']).toBe('from-options')
    expect(collector.requests[0]!.headers.authorization).toBe('Bearer collector-token')
    expect(elsewhere.spans).toHaveLength(0)
  })
})
