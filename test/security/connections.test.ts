/**
 * Connection limits on a real server: silent sockets cannot lock real clients out (at the cap the oldest idle
 * connection makes room), silent and trickling clients are cut by `headersTimeout` / `requestTimeout`, idle
 * keep-alive sockets by `keepAliveTimeout`, and the server keeps serving throughout.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../core/config.ts'
import { startServer, type RunningServer } from '../../core/server.ts'
import { createLogger } from '../../core/logger.ts'
import { defaultMaxConnections, openFileLimit } from '../../core/connections.ts'
import { echo } from '../../plugins/providers/index.ts'
import { eventually } from '../helpers/gateway.ts'
import { openSilent, openSocket, trickle, type WatchedSocket } from './raw-http.ts'

const servers: RunningServer[] = []
const sockets: WatchedSocket[] = []
afterEach(async () => {
  for (const { socket } of sockets.splice(0)) socket.destroy()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function start(server: Record<string, unknown>): Promise<RunningServer> {
  const running = await startServer(
    resolveConfig({ server: { port: 0, shutdownTimeout: 1000, ...server }, storage: { driver: 'memory' }, plugins: [echo()] }),
    { logger: createLogger('silent') },
  )
  servers.push(running)
  return running
}

const chat = (url: string) => fetch(`${url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', connection: 'close' },
  body: JSON.stringify({ model: 'echo/m', messages: [{ role: 'user', content: 'still here' }] }),
})

async function expectServed(url: string) {
  const response = await chat(url)
  expect(response.status).toBe(200)
  expect((await response.json()).choices[0].message.content).toBe('still here')
}

const isClosed = async (watched: WatchedSocket) => Promise.race([watched.closed.then(() => true), new Promise((r) => setImmediate(() => r(false)))])

describe('server.maxConnections', () => {
  it('with twice the cap in silent sockets open, a real client is served at once: the oldest silent ones made room', async () => {
    const server = await start({ maxConnections: 20 }) // headersTimeout stays 10 s: nothing here times out
    const silent = await openSilent(server.port, 40)
    sockets.push(...silent)
    await Promise.all(silent.slice(0, 20).map((s) => s.closed)) // the first 20 were evicted by the next 20
    expect(server.connections().open).toBe(20)
    await expectServed(server.url)
    const stillOpen = (await Promise.all(silent.map(isClosed))).filter((closed) => !closed).length
    expect(stillOpen).toBeGreaterThan(0) // served before any silent socket timed out
    expect(stillOpen).toBeLessThan(20)
    for (const s of silent) expect(s.received()).toBe('') // evicted without a word
  })

  it('when every connection has a request in progress, a new one is refused instead of exhausting descriptors', async () => {
    const server = await start({ maxConnections: 5 })
    const busy = await Promise.all(Array.from({ length: 5 }, () => trickle(server.port, 200)))
    sockets.push(...busy)
    await eventually(() => expect(server.connections()).toEqual({ open: 5, busy: 5 }))
    await expect(chat(server.url)).rejects.toThrow()
    for (const t of busy) t.stop()
    await Promise.all(busy.map((t) => t.closed))
    await expectServed(server.url)
  })

  it('defaults to half the open-file limit, at most 8192', () => {
    const limit = openFileLimit()
    expect(resolveConfig({}).server.maxConnections).toBe(defaultMaxConnections())
    if (limit) expect(defaultMaxConnections()).toBe(Math.min(8192, Math.floor(limit / 2)))
  })
})

describe('server.headersTimeout, requestTimeout and keepAliveTimeout', () => {
  it('cuts a silent socket at headersTimeout and a trickled body at requestTimeout with a 408, and goes on serving', async () => {
    const server = await start({ headersTimeout: 400, requestTimeout: 1200, keepAliveTimeout: 300 })
    const [silent] = await openSilent(server.port, 1)
    const trickler = await trickle(server.port, 100)
    sockets.push(silent!, trickler)
    const silentFor = await silent!.closed
    expect(silentFor).toBeGreaterThanOrEqual(400)
    expect(silent!.received()).toMatch(/^HTTP\/1\.1 408 /)
    await expectServed(server.url) // meanwhile the trickler is still holding its request open
    expect(await isClosed(trickler)).toBe(false)
    const trickledFor = await trickler.closed
    expect(trickledFor).toBeGreaterThanOrEqual(1200)
    expect(trickledFor).toBeLessThan(10_000) // Node's default (300 s) would never get here
    expect(trickler.received()).toMatch(/^HTTP\/1\.1 408 /)
    await expectServed(server.url)
    expect(server.current().isReady()).toBe(true)
  })

  it('closes an idle keep-alive connection after keepAliveTimeout', async () => {
    const server = await start({ keepAliveTimeout: 300 })
    const watched = await openSocket(server.port)
    sockets.push(watched)
    const body = JSON.stringify({ model: 'echo/m', messages: [{ role: 'user', content: 'hi' }] })
    watched.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
    const openFor = await watched.closed
    expect(watched.received()).toMatch(/^HTTP\/1\.1 200 [\s\S]*connection: keep-alive/i)
    expect(openFor).toBeLessThan(4000) // Node's default would keep it 5 s; 0.3 s is configured
  })
})

describe('config validation', () => {
  it.each([
    [{ maxConnections: 0 }, /key "server\.maxConnections": expected a number of connections above 0/],
    [{ headersTimeout: -1 }, /key "server\.headersTimeout": expected a number of milliseconds above 0/],
    [{ requestTimeout: 'long' }, /key "server\.requestTimeout"/],
    [{ headersTimeout: 20_000, requestTimeout: 10_000 }, /key "server\.headersTimeout": must not be longer than server\.requestTimeout/],
  ])('refuses %j with one line naming the key', (server, message) => {
    expect(() => resolveConfig({ server })).toThrow(message)
  })

  it('fills safe defaults', () => {
    expect(resolveConfig({}).server).toMatchObject({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 })
  })
})
