/** Memory under streams: RSS over one huge stream, and RSS per open stream with many slow ones open. */
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { chatBody, median, type Target } from './load.ts'
import { rssBytes, sampleRss } from './proc.ts'

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

export interface OpenStreamsResult {
  opened: number
  failed: number
  before: number
  during: number
  perStream: number
  openSeconds: number
}

const steadyRss = async (pid: number) => {
  const samples: number[] = []
  for (let i = 0; i < 10; i++) {
    samples.push(rssBytes(pid))
    await sleep(100)
  }
  return median(samples)
}

/**
 * Opens `count` slow streams (the mock drips an event every ~500 ms), waits until each has delivered its
 * first events, and compares the gateway's RSS with them open to its RSS before. Closes them all after.
 */
export async function openStreams(target: Target, count: number, timeoutMs = 30_000): Promise<OpenStreamsResult> {
  const agent = new Agent({ connections: count + 16, pipelining: 0 })
  const body = chatBody(true, 'mock/slow-stream')
  const controllers: AbortController[] = []
  let live = 0
  const headers = { 'content-type': 'application/json', ...target.headers }
  const open = async (): Promise<boolean> => {
    const controller = new AbortController()
    controllers.push(controller)
    try {
      const response = await request(`${target.url}/v1/chat/completions`, { method: 'POST', body, headers, dispatcher: agent, signal: controller.signal })
      if (response.statusCode !== 200) return false
      response.body.on('error', () => {})
      // Wait for a drip event after the first chunk: the stream is open end to end.
      return await new Promise<boolean>((done) => {
        let chunks = 0
        response.body.on('data', () => {
          if (++chunks === 2) {
            live++
            done(true)
          }
        })
        response.body.on('end', () => done(false))
        response.body.on('error', () => done(false))
      })
    } catch {
      return false
    }
  }

  // Warm the path (lazy modules, pools) with a few streams before the baseline.
  const warm = await Promise.all(Array.from({ length: 20 }, open))
  for (const controller of controllers.splice(0)) controller.abort()
  if (!warm.some(Boolean)) throw new Error(`${target.name}: could not open a slow stream`)
  await sleep(1000)
  const before = await steadyRss(target.pid!)

  live = 0
  const start = performance.now()
  await Promise.race([Promise.all(Array.from({ length: count }, open)), sleep(timeoutMs)])
  const openSeconds = (performance.now() - start) / 1000
  const opened = live
  const during = await steadyRss(target.pid!)
  for (const controller of controllers) controller.abort()
  await agent.destroy().catch(() => {})
  await sleep(500)
  return { opened, failed: count - opened, before, during, perStream: opened ? (during - before) / opened : Number.NaN, openSeconds }
}
