/** Helpers for recording tests through a real gateway: the live record feed, Prometheus text, prices from the table. */
import { DEFAULT_PRICES } from '../../plugins/usage/pricing-data.ts'
import type { RequestRecord } from '../../core/types.ts'

/** Subscribes to `GET /admin/events` and keeps every record it delivers, by request id. */
export async function openRecordFeed(url: string, adminKey: string) {
  const controller = new AbortController()
  const response = await fetch(`${url}/admin/events`, { headers: { authorization: `Bearer ${adminKey}` }, signal: controller.signal })
  if (response.status !== 200 || !response.body) throw new Error(`/admin/events answered ${response.status}`)
  const records = new Map<string, RequestRecord>()
  const events: string[] = []
  const reading = (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event) events.push(event)
          if (event === 'record' && data) {
            const record = JSON.parse(data) as RequestRecord
            records.set(record.id, record)
          }
        }
      }
    } catch {} // aborted at the end of the suite
  })()
  return {
    contentType: response.headers.get('content-type'),
    records,
    events,
    async close() {
      controller.abort()
      await reading
    },
  }
}

/** Prometheus text exposition → samples. Throws on any line that is not a comment, blank, or `name{labels} value`. */
export function parsePrometheus(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line)
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    if (match[2]) {
      const pattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g
      let consumed = 0
      for (let label; (label = pattern.exec(match[2]));) {
        labels[label[1]!] = label[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
        consumed = pattern.lastIndex
      }
      if (consumed !== match[2].length) throw new Error(`bad labels in: ${line}`)
    }
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3])
    if (Number.isNaN(value) && match[3] !== 'NaN') throw new Error(`bad value in: ${line}`)
    samples.push({ name: match[1]!, labels, value })
  }
  return samples
}

/** Sum of a metric's samples whose labels include `where`. */
export function metricSum(samples: ReturnType<typeof parsePrometheus>, name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}

/** USD for tokens at the shipped list price of `model` (USD per 1M tokens in the table). */
export function tableCost(model: string, tokens: { input: number; output: number; cached?: number }): number {
  const price = DEFAULT_PRICES[model]
  if (!price) throw new Error(`${model} is not in the pricing table`)
  const cached = tokens.cached ?? 0
  return ((tokens.input - cached) * price.input + cached * (price.cachedInput ?? price.input) + tokens.output * price.output) / 1_000_000
}
