/**
 * The realistic scenario's client, in its own process: opens `count` paced streams (bench/lib/paced.ts) spread
 * evenly over `rampMs`, one connection each (as that many separate clients would), reads each to its end, and
 * records per stream the time to the first body byte and to the end. node:http, so a chunk costs little here.
 *
 * stdout protocol: `open <live>` once every stream has its first byte (or failed): the moment to read the gateway's
 * memory with all of them open; then `result <json>` (see StreamClientResult) when all have ended.
 * Usage: node --import jiti/register bench/stream-client.ts '<json StreamClientOptions>'
 */
import { Agent, request } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { chatBody } from './lib/load.ts'
import { pacedModel, type PacedPlan } from './lib/paced.ts'

export interface StreamClientOptions {
  url: string
  headers: Record<string, string>
  count: number
  rampMs: number
  plan: PacedPlan
  timeoutMs: number
}

export interface StreamClientResult {
  /** Per stream index, ms; null where the stream failed. */
  ttfb: Array<number | null>
  total: Array<number | null>
  /** Most streams open (first byte received, end not yet) at once. */
  maxLive: number
  /** SSE events received over all streams (failed ones too): each ends with a blank line. */
  events: number
  failed: number
  /** Distinct failure reasons with their counts. */
  errors: Record<string, number>
  /** This client's own event-loop delay, p99 in ms: when high, its timings are late too. */
  lagP99Ms: number
  /** CPU seconds this client used from the first measured stream to the last, and that span's wall seconds. */
  cpuSeconds: number
  seconds: number
}

/** Streams sent (and read) before the measured ones, so the client's and the target's lazy code paths are warm. */
const WARM_UP = 20

const DONE = Buffer.from('[DONE]')
/** The mock's last content chunk says `"finish_reason":"stop"`: a stream a gateway ended early with an error event has [DONE] but not this. */
const STOP = Buffer.from('"stop"')
/** The end of a stream kept to check it: the finish chunk, the usage chunk (dropped by some gateways) and [DONE]. */
const TAIL = 512
const NL = 0x0a

/** How many "\n\n" end in `chunk` (`afterNewline`: the previous chunk ended with "\n"). */
function blankLines(chunk: Buffer, afterNewline: boolean): number {
  let count = afterNewline && chunk[0] === NL ? 1 : 0
  for (let at = chunk.indexOf('\n\n'); at >= 0; at = chunk.indexOf('\n\n', at + 2)) count++
  return count
}

function run(options: StreamClientOptions, { count, rampMs, plan }: { count: number; rampMs: number; plan: PacedPlan }, say: (line: string) => void): Promise<StreamClientResult> {
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
  const ttfb = new Array<number | null>(count).fill(null)
  const total = new Array<number | null>(count).fill(null)
  const settled = new Uint8Array(count)
  const errors: Record<string, number> = {}
  const requests = new Set<ReturnType<typeof request>>()
  let awaitingFirst = count
  let unfinished = count
  let live = 0
  let maxLive = 0
  let events = 0
  let failed = 0
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  const cpuAtStart = process.cpuUsage()
  const began = performance.now()
  say('start')

  return new Promise((resolve) => {
    const firstSettled = () => {
      if (--awaitingFirst === 0) say(`open ${live}`)
    }
    const finish = () => {
      if (--unfinished > 0) return
      clearTimeout(deadline)
      lag.disable()
      const cpu = process.cpuUsage(cpuAtStart)
      resolve({ ttfb, total, maxLive, events, failed, errors, lagP99Ms: lag.percentile(99) / 1e6, cpuSeconds: (cpu.user + cpu.system) / 1e6, seconds: (performance.now() - began) / 1000 })
    }
    const fail = (index: number, why: string, hadFirst: boolean) => {
      if (settled[index]) return
      settled[index] = 1
      ttfb[index] = null
      failed++
      errors[why] = (errors[why] ?? 0) + 1
      if (hadFirst) live--
      else firstSettled()
      finish()
    }

    const open = (index: number) => {
      const body = chatBody(true, pacedModel(plan, index))
      const start = performance.now()
      let first = false
      const req = request(`${options.url}/v1/chat/completions`, {
        method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...options.headers },
      })
      requests.add(req)
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          return fail(index, `status ${res.statusCode}`, false)
        }
        let tail: Buffer = Buffer.alloc(0)
        res.on('data', (chunk: Buffer) => {
          if (!first) {
            first = true
            ttfb[index] = performance.now() - start
            if (++live > maxLive) maxLive = live
            firstSettled()
          }
          events += blankLines(chunk, tail.length > 0 && tail[tail.length - 1] === NL)
          tail = chunk.length >= TAIL ? chunk.subarray(-TAIL) : Buffer.concat([tail, chunk]).subarray(-TAIL)
        })
        res.on('end', () => {
          requests.delete(req)
          if (!first || !tail.includes(DONE) || !tail.includes(STOP)) return fail(index, !first ? 'empty body' : tail.includes(DONE) ? 'ended early (no finish_reason stop)' : 'ended without [DONE]', first)
          settled[index] = 1
          total[index] = performance.now() - start
          live--
          finish()
        })
        res.on('error', (error: NodeJS.ErrnoException) => fail(index, error.code ?? error.message, first))
        res.on('close', () => fail(index, 'closed before its end', first))
      })
      req.on('error', (error: NodeJS.ErrnoException) => {
        requests.delete(req)
        fail(index, error.code ?? error.message, first)
      })
      req.end(body)
    }

    const deadline = setTimeout(() => {
      for (const req of requests) req.destroy(new Error('not done by the deadline (ramp + stream + 30 s)'))
    }, options.timeoutMs)

    const spacing = rampMs / count
    let opened = 0
    const opener = () => {
      const due = spacing > 0 ? Math.min(count, Math.floor((performance.now() - began) / spacing) + 1) : count
      while (opened < due) open(opened++)
      if (opened < count) setTimeout(opener, 1)
    }
    opener()
  })
}

const options = JSON.parse(process.argv[2] ?? '{}') as StreamClientOptions
const quiet = () => {}
const say = (line: string) => process.stdout.write(`${line}\n`)
// Warm-up: short streams (a distinct seed, one event each) through the same target, not measured.
run(options, { count: WARM_UP, rampMs: 0, plan: { ...options.plan, seed: options.plan.seed + 1, eventMs: 0 } }, quiet)
  .then(() => run(options, options, say))
  .then((result) => {
    const round = (values: Array<number | null>) => values.map((v) => (v == null ? null : Math.round(v * 1000) / 1000))
    const line = JSON.stringify({ ...result, ttfb: round(result.ttfb), total: round(result.total) })
    process.stdout.write(`result ${line}\n`, () => process.exit(0))
  })
