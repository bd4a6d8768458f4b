/** Raw TCP clients for the connection tests: sockets that say nothing, bodies that trickle, forged headers. */
import { connect, type Socket } from 'node:net'
import { request as httpRequest } from 'node:http'

export interface WatchedSocket {
  socket: Socket
  /** Everything the server sent. */
  received(): string
  /** Resolves with ms from open to close once the server (or an error) closes the socket. */
  closed: Promise<number>
}

export function openSocket(port: number): Promise<WatchedSocket> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => { data += chunk })
    socket.on('error', () => {}) // a reset counts as closed
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - started)))
    socket.once('connect', () => resolve({ socket, received: () => data, closed }))
    socket.once('error', reject)
  })
}

/** Opens `n` sockets that never send a byte. */
export function openSilent(port: number, n: number): Promise<WatchedSocket[]> {
  return Promise.all(Array.from({ length: n }, () => openSocket(port)))
}

/** A chat request whose chunked body arrives one byte every `everyMs`, never finishing. */
export async function trickle(port: number, everyMs: number): Promise<WatchedSocket & { stop(): void }> {
  const watched = await openSocket(port)
  const { socket } = watched
  socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write('1\r\n \r\n')
  }, everyMs)
  void watched.closed.then(() => clearInterval(timer))
  return { ...watched, stop: () => { clearInterval(timer); socket.destroy() } }
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One request with node:http, which (unlike fetch) lets a test forge `Host`. A fresh connection each time. */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An HTTP/1.1 request as raw text, for writing onto a socket (pipelining included). */
export function requestText(method: string, path: string, body?: string, headers: Record<string, string> = {}): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1']
  if (body !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`)
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  return `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`
}
