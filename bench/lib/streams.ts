/** Memory under a stream: the gateway's RSS over one huge stream. */
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { chatBody, type Target } from './load.ts'
import { sampleRss } from './proc.ts'

export interface BigStreamResult {
  bytes: number
  seconds: number
  rss: { start: number; peak: number; end: number; samples: number }
}

/** Streams `megabytes` through the gateway as fast as the client reads, sampling the gateway's RSS meanwhile. */
export async function bigStream(target: Target, megabytes: number): Promise<BigStreamResult> {
  const agent = new Agent({ connections: 1 })
  const sampler = sampleRss(target.pid!)
  const start = performance.now()
  let bytes = 0
  try {
    const response = await request(`${target.url}/v1/chat/completions`, {
      method: 'POST', body: chatBody(true, `mock/big-stream-${megabytes}`), headers: { 'content-type': 'application/json', ...target.headers }, dispatcher: agent,
    })
    if (response.statusCode !== 200) throw new Error(`${target.name}: status ${response.statusCode}`)
    for await (const chunk of response.body) bytes += (chunk as Buffer).length
  } finally {
    await agent.close()
  }
  const seconds = (performance.now() - start) / 1000
  await sleep(200) // let the request's own garbage be the end sample's, not the next scenario's
  return { bytes, seconds, rss: sampler.stop() }
}
