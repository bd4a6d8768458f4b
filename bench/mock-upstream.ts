/**
 * The benchmark's upstream: answers OpenAI chat requests from prepared buffers so it is never the
 * bottleneck. The model name picks the answer (a substring match on the raw body, no JSON parsing):
 *   anything else       non-stream: one JSON body; stream: a prepared sequence of SSE chunks
 *   big-stream-<MB>     a stream of <MB> megabytes, written with backpressure from one prepared 64 KB block
 *   paced-<seed>-<i>-<ms>  realistic pacing: after 20–200 ms, events at 30–80 per second for <ms> (bench/lib/paced.ts)
 * Usage: node --import jiti/register bench/mock-upstream.ts <port>
 */
import { createServer, type ServerResponse } from 'node:http'
import { sendPaced, type PacedEvents } from './lib/paced.ts'

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
const completion = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 },
}))
const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const usageChunk = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } })}\n\n`
const streamEnd = Buffer.from(chunk({}, 'stop') + usageChunk + 'data: [DONE]\n\n')
const streamStart = Buffer.from(chunk({ role: 'assistant', content: '' }, null))
const stream = Buffer.concat([
  streamStart,
  Buffer.from('The quick brown fox jumps over the lazy dog .'.split(' ').map((w) => chunk({ content: w + ' ' }, null)).join('')),
  streamEnd,
])

// One 64 KB block of ~500-byte content events for the big stream (whole events only, so any count of blocks parses).
const bigEvent = chunk({ content: 'lorem ipsum dolor sit amet '.repeat(18) }, null)
const bigBlock = Buffer.from(bigEvent.repeat(Math.floor(65_536 / bigEvent.length)))
const paced: PacedEvents = { headers: SSE_HEADERS, first: streamStart, event: Buffer.from(chunk({ content: 'token ' }, null)), end: streamEnd }

function sendBig(res: ServerResponse, megabytes: number) {
  res.writeHead(200, SSE_HEADERS)
  res.write(streamStart)
  let left = Math.ceil((megabytes * 1024 * 1024) / bigBlock.length)
  const pump = () => {
    while (left > 0) {
      left--
      if (!res.write(bigBlock)) return void res.once('drain', pump)
    }
    res.end(streamEnd)
  }
  res.on('close', () => { left = 0 })
  pump()
}

const BIG = Buffer.from('big-stream-')
const STREAM = Buffer.from('"stream":true')

const server = createServer((req, res) => {
  const parts: Buffer[] = []
  req.on('data', (d: Buffer) => parts.push(d))
  req.on('end', () => {
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    if (!body.includes(STREAM)) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length })
      return void res.end(completion)
    }
    const big = body.indexOf(BIG)
    if (big >= 0) return sendBig(res, parseInt(body.subarray(big + BIG.length, big + BIG.length + 8).toString(), 10) || 1)
    if (sendPaced(res, body, paced)) return
    res.writeHead(200, SSE_HEADERS)
    res.end(stream)
  })
})
server.keepAliveTimeout = 60_000
server.maxConnections = 100_000
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', 4096, () => {
  const address = server.address()
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`)
})
