/**
 * The otel test rig: a local OTLP/HTTP receiver (a plain node:http server taking POST /v1/traces in OTLP JSON),
 * two mock OpenAI upstreams behind a router alias with retry and breaker, and a gateway in process with otel()
 * exporting to the receiver.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import OpenAI from 'openai'
import type { SluicePlugin } from '../../core/index.ts'
import { openaiCompatible } from '../../plugins/providers/index.ts'
import { breaker, retry, router } from '../../plugins/index.ts'
import { otel, type OtelOptions } from '../../plugins/otel/index.ts'
import { createTestGateway, type TestGateway } from '../../testing/index.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually } from '../helpers/gateway.ts'

export { eventually }

/** One received span, its attributes flattened to plain values. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  /** OTLP kinds: 1 internal, 2 server, 3 client. */
  kind: number
  attributes: Record<string, unknown>
  status: { code?: number; message?: string }
  startMs: number
  endMs: number
  resource: Record<string, unknown>
}

export const SERVER = 2
export const CLIENT = 3

export interface Collector {
  url: string
  spans: ReceivedSpan[]
  /** Raw export requests received (method, path, headers). */
  requests: Array<{ method: string; path: string; headers: Record<string, string | string[] | undefined> }>
  close(): Promise<void>
}

function valueOf(value: any): unknown {
  if (!value) return undefined
  if ('stringValue' in value) return value.stringValue
  if ('boolValue' in value) return value.boolValue
  if ('intValue' in value) return Number(value.intValue)
  if ('doubleValue' in value) return Number(value.doubleValue)
  if ('arrayValue' in value) return (value.arrayValue.values ?? []).map(valueOf)
  return undefined
}

function attributesOf(list: any[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const item of list ?? []) out[item.key] = valueOf(item.value)
  return out
}

const nanosToMs = (value: string | number) => Number(BigInt(value) / 1000n) / 1000

export async function startCollector(): Promise<Collector> {
  const spans: ReceivedSpan[] = []
  const requests: Collector['requests'] = []
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end()
      return
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    for (const resourceSpans of body.resourceSpans ?? []) {
      const resource = attributesOf(resourceSpans.resource?.attributes)
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            status: span.status ?? {},
            startMs: nanosToMs(span.startTimeUnixNano),
            endMs: nanosToMs(span.endTimeUnixNano),
            resource,
          })
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** The spans of one request: its server span (by the gateway's request id) and that span's children. */
export function spansOf(collector: Collector, requestId: string | null): { server: ReceivedSpan; children: ReceivedSpan[] } {
  const server = collector.spans.find((span) => span.kind === SERVER && span.attributes['sluice.request_id'] === requestId)
  if (!server) throw new Error(`no server span for request ${requestId}`)
  const children = collector.spans
    .filter((span) => span.parentSpanId === server.spanId && span.traceId === server.traceId)
    .sort((a, b) => Number(a.attributes['sluice.attempt']) - Number(b.attributes['sluice.attempt']))
  return { server, children }
}

export interface Rig {
  collector: Collector
  a: MockOpenAI
  b: MockOpenAI
  gw: TestGateway
  client: OpenAI
  close(): Promise<void>
}

/** Aliases `pair-N` → [a/pair-N-alpha, b/pair-N-beta]: each test gets targets (and circuits) of its own. */
const PAIRS = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`pair-${i}`, [`a/pair-${i}-alpha`, `b/pair-${i}-beta`]]))
let pairs = 0
export function freshPair(): { alias: string; alpha: string; beta: string } {
  const n = pairs++
  return { alias: `pair-${n}`, alpha: `pair-${n}-alpha`, beta: `pair-${n}-beta` }
}

export async function startRig(options: OtelOptions = {}, extra: { plugins?: SluicePlugin[]; collector?: Collector; router?: boolean } = {}): Promise<Rig> {
  const collector = extra.collector ?? await startCollector()
  const [a, b] = await Promise.all([startMockOpenAI(), startMockOpenAI()])
  const timeouts = { connect: 1_000, firstByte: 2_000, idle: 2_000, total: 10_000 }
  const gw = await createTestGateway({
    plugins: [
      openaiCompatible({ name: 'a', baseURL: a.url, apiKey: 'sk-test-upstream-a-000000', timeouts }),
      openaiCompatible({ name: 'b', baseURL: b.url, apiKey: 'sk-test-upstream-b-000000', timeouts }),
      ...(extra.router === false ? [] : [router({ models: PAIRS })]),
      retry({ attempts: 2, baseMs: 10, maxMs: 50 }),
      breaker(),
      otel({ endpoint: collector.url, scheduledDelayMs: 20, ...options }),
      ...(extra.plugins ?? []),
    ],
  })
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', fetch: gw.fetch, maxRetries: 0, timeout: 20_000 })
  return {
    collector, a, b, gw, client,
    async close() {
      await gw.close()
      await Promise.all([a.close(), b.close(), collector.close()])
    },
  }
}
