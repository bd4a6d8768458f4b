/**
 * The benchmark's upstream: answers OpenAI chat requests from prepared buffers so it is never the
 * bottleneck. Non-stream: one JSON body. Stream: a prepared sequence of SSE chunks.
 * Usage: node --import jiti/register bench/mock-upstream.ts <port>
 */
import { createServer } from 'node:http'

const completion = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 },
}))
const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
const stream = Buffer.from([
  chunk({ role: 'assistant', content: '' }, null),
  ...'The quick brown fox jumps over the lazy dog .'.split(' ').map((w) => chunk({ content: w + ' ' }, null)),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench', choices: [], usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 } })}\n\n`,
  'data: [DONE]\n\n',
].join(''))

const server = createServer((req, res) => {
  let streamed = false
  req.on('data', (d: Buffer) => {
    if (!streamed && d.includes('"stream":true')) streamed = true
  })
  req.on('end', () => {
    if (streamed) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.end(stream)
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length })
      res.end(completion)
    }
  })
})
server.keepAliveTimeout = 60_000
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`)
})
