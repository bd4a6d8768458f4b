/**
 * Helpers for the provider end-to-end tests: a recording front for a mock upstream, and a direct replay of
 * what the gateway sent a mock, so usage the client sees can be compared with what the upstream reported.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  /** Path and query exactly as the gateway sent them. */
  url: string
  headers: IncomingHttpHeaders
}

export interface RecordingFront {
  url: string
  requests: RecordedRequest[]
  close(): Promise<void>
}

/**
 * Records each request (path, query, headers) and forwards it to `target` with the query string removed:
 * the OpenAI mock routes on the end of the raw URL, which a query (Azure's `api-version`) would hide.
 */
export async function startRecordingFront(target: string): Promise<RecordingFront> {
  const upstream = new URL(target)
  const requests: RecordedRequest[] = []
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    const path = (req.url ?? '/').split('?')[0]!
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers)
      reply.pipe(res)
    })
    forward.on('error', () => res.destroy())
    res.on('close', () => forward.destroy())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** Sends `body` straight to a mock (no gateway) and returns its JSON answer. */
export async function replay(url: string, headers: Record<string, string>, body: unknown): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`replay failed: ${response.status} ${await response.text()}`)
  return response.json()
}

/** Reads a raw SSE body into `{ event, data }` records. */
export function sseRecords(text: string): Array<{ event?: string; data: string }> {
  const out: Array<{ event?: string; data: string }> = []
  for (const block of text.replace(/\r\n/g, '\n').split('\n\n')) {
    if (!block.trim()) continue
    let event: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    out.push({ event, data: data.join('\n') })
  }
  return out
}
