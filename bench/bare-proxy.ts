/**
 * The floor for a Node gateway: a bare node:http server that forwards each request body to the mock with
 * undici (the same client Sluice uses) and pipes the answer back. No parsing, no hooks, no web Request/Response.
 * Whatever Sluice costs above this is Sluice; what this costs above direct is Node's HTTP in and out.
 * Usage: node bench/bare-proxy.ts <upstream base URL, e.g. http://127.0.0.1:1234/v1>
 */
import { createServer } from 'node:http'
import { Agent, request } from 'undici'

const upstream = `${process.argv[2]!.replace(/\/+$/, '')}/chat/completions`
const agent = new Agent({ connections: 16_384, keepAliveTimeout: 30_000 })

const server = createServer((req, res) => {
  const parts: Buffer[] = []
  req.on('data', (d: Buffer) => parts.push(d))
  req.on('end', async () => {
    try {
      const answer = await request(upstream, {
        method: 'POST', body: Buffer.concat(parts), headers: { 'content-type': 'application/json' }, dispatcher: agent,
      })
      res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') })
      for await (const chunk of answer.body) res.write(chunk)
      res.end()
    } catch {
      res.writeHead(502).end()
    }
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`)
})
