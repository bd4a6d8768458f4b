/**
 * The mock's paced streams, for the realistic-latency scenario: a stream waits its time to first token, then sends
 * events at its own steady rate until its time is up. Each stream's shape comes from a fixed seeded distribution
 * keyed by the stream's index (the model name carries it), so stream i has the same delay and rate whether the
 * client reaches the mock directly or through a gateway, and added latency can be taken stream by stream.
 *
 * One 1 ms timer wheel serves every open stream (5,000 streams × 30–80 events/s would otherwise be 5,000 timers);
 * it runs only while a paced stream is open.
 */
import type { ServerResponse } from 'node:http'

/** Time to the first event (ms) and the default range of event rates (per second, issue 18's 30–80). */
export const PACED = { delayMs: [20, 200], eventsPerSecond: [30, 80] } as const

export interface PacedPlan {
  seed: number
  /** How long each stream sends events after its first one. */
  eventMs: number
  /** Events per second, drawn uniformly from [low, high] per stream. */
  rate: readonly [number, number]
}

/** The model name that asks the mock for paced stream `index` of `plan`. */
export const pacedModel = (plan: PacedPlan, index: number) => `mock/paced-${plan.seed}-${index}-${plan.eventMs}-${plan.rate[0]}-${plan.rate[1]}`
const MODEL = /paced-(\d+)-(\d+)-(\d+)-([\d.]+)-([\d.]+)/
const MARK = Buffer.from('paced-')


/** mulberry32 of (seed, index): a uniform number in [0, 1). */
function uniform(seed: number, index: number, draw: number): number {
  let t = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ Math.imul(draw + 1, 0x27d4eb2f)) >>> 0
  t = (t + 0x6d2b79f5) | 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Stream `index`'s time to first event (ms, uniform 20–200), event rate (per second) and number of events. */
export function pacedShape(plan: PacedPlan, index: number): { delayMs: number; rate: number; events: number } {
  const [d0, d1] = PACED.delayMs
  const [r0, r1] = plan.rate
  const rate = r0 + (r1 - r0) * uniform(plan.seed, index, 1)
  return { delayMs: Math.round(d0 + (d1 - d0) * uniform(plan.seed, index, 0)), rate, events: Math.max(1, Math.round((rate * plan.eventMs) / 1000)) }
}

interface Paced {
  res: ServerResponse
  /** When event 0 (headers and the first event) is due; event k is due at start + k × every. */
  start: number
  every: number
  events: number
  sent: number
  closed: boolean
}

export interface PacedEvents {
  headers: Record<string, string>
  first: Buffer
  event: Buffer
  end: Buffer
}

const wheel = new Map<number, Paced[]>()
let clock: NodeJS.Timeout | undefined
let done = 0 // the last millisecond the wheel has run
let events: PacedEvents

function schedule(stream: Paced, at: number): void {
  if (!clock) {
    done = Math.floor(performance.now())
    clock = setInterval(tick, 1)
  }
  const slot = Math.max(Math.ceil(at), done + 1)
  const due = wheel.get(slot)
  if (due) due.push(stream)
  else wheel.set(slot, [stream])
}

function step(stream: Paced): void {
  if (stream.closed) return
  if (stream.sent === 0) {
    stream.res.writeHead(200, events.headers)
    stream.res.write(events.first)
  } else if (stream.sent < stream.events) {
    stream.res.write(events.event)
  } else {
    return void stream.res.end(events.end)
  }
  stream.sent++
  schedule(stream, stream.start + stream.sent * stream.every)
}

function tick(): void {
  const now = Math.floor(performance.now())
  for (let ms = done + 1; ms <= now; ms++) {
    const due = wheel.get(ms)
    if (!due) continue
    wheel.delete(ms)
    for (const stream of due) step(stream)
  }
  done = now
  if (wheel.size === 0) {
    clearInterval(clock)
    clock = undefined
  }
}

/** Answers with a paced stream when the body asks for one (see pacedModel); false when it does not. */
export function sendPaced(res: ServerResponse, body: Buffer, bytes: PacedEvents): boolean {
  const at = body.indexOf(MARK)
  if (at < 0) return false
  const match = MODEL.exec(body.subarray(at, at + 64).toString())
  if (!match) return false
  events = bytes
  const plan: PacedPlan = { seed: Number(match[1]), eventMs: Number(match[3]), rate: [Number(match[4]), Number(match[5])] }
  const { delayMs, rate, events: count } = pacedShape(plan, Number(match[2]))
  const stream: Paced = { res, start: performance.now() + delayMs, every: 1000 / rate, events: count, sent: 0, closed: false }
  res.on('close', () => { stream.closed = true })
  schedule(stream, stream.start)
  return true
}
