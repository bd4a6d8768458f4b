/**
 * Shutdown drains and ends: on SIGTERM `/ready` says `closing` at once, responses still to be written say
 * `connection: close`, a busy socket closes once its response is out. An idle keep-alive socket is not closed
 * under a request that may already be on its way (a load balancer answers 502 for it: issue 17): a request that
 * arrives on it is served with `connection: close`, and one that stays idle ends at `keepAliveTimeout`. The drain
 * ends when the requests in flight and the connections do (it used to run to `shutdownTimeout` while keep-alive
 * clients kept feeding it). After teardown a request gets 503 `shutting down` in its API's shape.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request as httpRequest } from 'node:http'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../core/config.ts'
import { startServer } from '../../core/server.ts'
import { createLogger } from '../../core/logger.ts'
import { echo } from '../../plugins/providers/index.ts'
import { keys } from '../../plugins/keys/index.ts'
import { eventually } from '../helpers/gateway.ts'
import { openSocket, requestText, type WatchedSocket } from './raw-http.ts'

const ROOT = resolve(import.meta.dirname, '../..')
// slow-echo: echo streams one word every 20 ms; shutdownTimeout 5000 ms, keepAliveTimeout 2000 ms.
const CONFIG = 'test/configs/slow-echo.config.ts'
const SHUTDOWN_TIMEOUT_MS = 5000
const KEEP_ALIVE_TIMEOUT_MS = 2000

const children: ChildProcess[] = []
const sockets: WatchedSocket[] = []
afterEach(() => {
  for (const { socket } of sockets.splice(0)) socket.destroy()
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

function startCli(): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [resolve(ROOT, 'bin/sluice.mjs'), 'start', '--config', CONFIG, '--port', '0'], {
    cwd: ROOT, env: { ...process.env, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  return new Promise((done, fail) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match) done({ child, port: Number(match[1]), output: () => output })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => fail(new Error(`exited ${code}: ${output}`)))
  })
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ')
const chatBody = (content: string, stream = false) => JSON.stringify({ model: 'echo/m', stream, messages: [{ role: 'user', content }] })

/** A keep-alive client that sends requests back to back until one fails; counts answers and their `connection`. */
function hammer(port: number, agent: Agent) {
  const seen: Array<{ status: number; connection?: string; afterSignal: boolean }> = []
  let signalled = false
  const once = () => new Promise<void>((done, fail) => {
    const req = httpRequest({ port, host: '127.0.0.1', path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => {
        seen.push({ status: res.statusCode!, connection: res.headers.connection, afterSignal: signalled })
        done()
      })
    })
    req.on('error', fail)
    req.end(chatBody('a b c', true))
  })
  const running = (async () => {
    for (;;) await once()
  })().catch(() => {})
  return { seen, running, signal: () => { signalled = true } }
}

describe('SIGTERM on a real process', () => {
  it('serves a request that arrives on an idle socket, answers `closing`, takes no new work, and exits once the last stream and idle socket end', async () => {
    const { child, port, output } = await startCli()
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))

    // A stream in flight (40 words × 20 ms), two idle keep-alive sockets, and keep-alive clients hammering.
    const streaming = await openSocket(port)
    const idle = await openSocket(port)
    const quiet = await openSocket(port)
    sockets.push(streaming, idle, quiet)
    streaming.socket.write(requestText('POST', '/v1/chat/completions', chatBody(words(40), true)))
    idle.socket.write(requestText('POST', '/v1/chat/completions', chatBody('quick')))
    quiet.socket.write(requestText('POST', '/v1/chat/completions', chatBody('hush')))
    await eventually(() => expect(idle.received()).toContain('"content":"quick"'))
    await eventually(() => expect(quiet.received()).toContain('"content":"hush"'))
    await eventually(() => expect(streaming.received()).toContain('"w0'))
    const agent = new Agent({ keepAlive: true, maxSockets: 6 })
    const clients = Array.from({ length: 6 }, () => hammer(port, agent))
    await eventually(() => expect(clients.every((c) => c.seen.length > 0)).toBe(true))

    const signalledAt = Date.now()
    for (const client of clients) client.signal()
    child.kill('SIGTERM')
    await eventually(() => expect(output()).toContain('SIGTERM: finishing in-flight requests'))
    // Pipelined behind the stream: answered after it, with the state of the moment and `connection: close`.
    streaming.socket.write(requestText('GET', '/ready'))
    // A request on an idle socket after the signal (a balancer's, sent before it knew): served, then closed.
    const before = idle.received().length
    idle.socket.write(requestText('POST', '/v1/chat/completions', chatBody('late')))
    await idle.closed
    const late = idle.received().slice(before)
    expect(late).toMatch(/^HTTP\/1\.1 200 /)
    expect(late).toMatch(/connection: close/i)
    expect(late).toContain('"content":"late"')
    expect(quiet.socket.destroyed).toBe(false) // still open: only its own keep-alive timeout ends it

    const closedAfter = await streaming.closed
    const text = streaming.received()
    expect(text.indexOf('data: [DONE]')).toBeGreaterThan(0) // the stream in flight finished whole
    const ready = text.slice(text.indexOf('HTTP/1.1 503'))
    expect(text.indexOf('HTTP/1.1 503')).toBeGreaterThan(text.indexOf('data: [DONE]'))
    expect(ready).toMatch(/connection: close/i)
    expect(ready).toContain('{"status":"closing"}')
    expect(closedAfter).toBeGreaterThan(0)

    await quiet.closed
    expect(await exited).toBe(0)
    const tookMs = Date.now() - signalledAt
    expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS) // it used to run the whole timeout
    expect(tookMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 1500)
    await Promise.all(clients.map((c) => c.running))
    agent.destroy()
    // Each keep-alive client got at most the request it had in flight plus one answered with `connection: close`.
    for (const client of clients) {
      const late = client.seen.filter((s) => s.afterSignal)
      expect(late.length).toBeLessThanOrEqual(2)
      if (late.length === 2) expect(late[1]!.connection).toBe('close')
    }
  })
})

describe('shutdown, in process', () => {
  it('/ready says closing as soon as close() begins; during and after teardown requests get 503 shutting down in their API shape', async () => {
    let releaseTeardown!: () => void
    const teardownGate = new Promise<void>((done) => { releaseTeardown = done })
    let tornDown = false
    // Teardowns run in reverse: this one runs last, after keys() is already torn down.
    const slowTeardown = { name: 'slow-teardown', setup: () => async () => { tornDown = true; await teardownGate } }
    const server = await startServer(resolveConfig({
      server: { port: 0, shutdownTimeout: 2000 },
      storage: { driver: 'memory' },
      plugins: [slowTeardown, echo(), keys({ keys: [{ name: 'k', key: 'sk-config-key-for-drain-test-0001' }] })],
    }), { logger: createLogger('silent') })
    const gateway = server.current()
    const ask = (path: string, body?: string) => gateway.fetch(new Request(`http://localhost${path}`, body === undefined ? undefined : {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-config-key-for-drain-test-0001' }, body,
    }))

    expect((await ask('/ready')).status).toBe(200)
    const closing = server.close()
    const ready = await ask('/ready')
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'closing' })

    await eventually(() => expect(tornDown).toBe(true))
    const chat = await ask('/v1/chat/completions', chatBody('late'))
    expect(chat.status).toBe(503)
    expect(chat.headers.get('connection')).toBe('close')
    expect(await chat.json()).toEqual({ error: { message: 'the gateway is shutting down', type: 'api_error', param: null, code: 'shutting_down' } })
    const messages = await ask('/v1/messages', JSON.stringify({ model: 'echo/m', max_tokens: 8, messages: [{ role: 'user', content: 'late' }] }))
    expect(messages.status).toBe(503)
    expect(await messages.json()).toEqual({ type: 'error', error: { type: 'api_error', message: 'the gateway is shutting down' } })

    releaseTeardown()
    await closing
    expect((await ask('/v1/chat/completions', chatBody('later'))).status).toBe(503)
  })

  it('a connection busy with an endless stream of its own (a live feed) does not hold the drain: its teardown ends it', async () => {
    let ended!: () => void
    const feedEnded = new Promise<void>((done) => { ended = done })
    const endless = {
      name: 'endless',
      setup(gw: any) {
        let controller: ReadableStreamDefaultController<Uint8Array> | undefined
        gw.app.get('/endless', () => new Response(new ReadableStream<Uint8Array>({
          start(c) { controller = c; c.enqueue(new TextEncoder().encode('tick\n')) },
        }), { headers: { 'content-type': 'text/plain' } }))
        return () => { controller?.close(); ended() }
      },
    }
    const server = await startServer(resolveConfig({
      server: { port: 0, shutdownTimeout: 8000 },
      storage: { driver: 'memory' },
      plugins: [echo(), endless],
    }), { logger: createLogger('silent') })
    const response = await fetch(`${server.url}/endless`)
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('tick\n')
    const started = Date.now()
    await server.close()
    await feedEnded
    expect(Date.now() - started).toBeLessThan(4000) // not the 8 s shutdown timeout
    expect((await reader.read()).done).toBe(true)
  })
})
