import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createFeedStream, FEED_OPENING } from '../../plugins/usage/feed.ts'
import { Recorder } from '../../plugins/usage/recorder.ts'
import { createSqliteStore } from '../../plugins/usage/sqlite-store.ts'
import { ManualClock, makeRecord, readUntil, tempDir, testLogger } from './helpers.ts'

let dir: string
let cleanup: () => void
beforeEach(() => ({ dir, cleanup } = tempDir()))
afterEach(() => cleanup())

/** Parses SSE text; comment blocks (the feed's opening line) are skipped. */
function parseEvents(text: string) {
  return text.split('\n\n').filter((block) => block && !block.startsWith(':')).map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1]
    const data = /^data: (.*)$/m.exec(block)?.[1]
    return { event, data: data ? JSON.parse(data) : undefined }
  })
}

describe('live event feed', () => {
  it('never slows the recorder: a subscriber that does not read is told how many records it skipped', async () => {
    const { logger } = testLogger()
    const recorder = new Recorder({
      store: createSqliteStore({ file: join(dir, 'usage.db') }), spillFile: join(dir, 'spill.jsonl'),
      queueSize: 10_000, batchSize: 100, flushIntervalMs: 1000, clock: new ManualClock(), logger,
    })
    await recorder.start()
    const slow = createFeedStream((listener) => recorder.subscribe(listener), { bufferSize: 8 })
    const fast = createFeedStream((listener) => recorder.subscribe(listener), { bufferSize: 8 })
    const fastReader = fast.getReader()
    const decoder = new TextDecoder()
    const fastEvents: string[] = []
    // Both open with a comment before any record, so a client gets the response headers at once.
    expect(decoder.decode((await fastReader.read()).value)).toBe(FEED_OPENING)

    const records = Array.from({ length: 100 }, () => makeRecord())
    for (const record of records) {
      recorder.add(record) // synchronous: returns whatever the subscribers do
      if (fastEvents.length < 3) {
        const { value } = await fastReader.read()
        fastEvents.push(decoder.decode(value))
      }
    }
    expect(recorder.stats()).toMatchObject({ accepted: 100, subscribers: 2 })
    expect(parseEvents(fastEvents.join('')).map((e) => e.data.id)).toEqual(records.slice(0, 3).map((r) => r.id))

    // The slow client reads only now: its 8 buffered records, then the gap, then whatever comes next.
    const { text, reader } = await readUntil(slow, (t) => t.includes('event: lagged'))
    const events = parseEvents(text)
    expect(events.slice(0, 8).map((e) => e.data.id)).toEqual(records.slice(0, 8).map((r) => r.id))
    expect(events[8]).toEqual({ event: 'lagged', data: { skipped: 92 } })
    expect(events).toHaveLength(9)

    const later = makeRecord()
    recorder.add(later)
    const { value } = await reader.read()
    expect(parseEvents(decoder.decode(value))).toEqual([{ event: 'record', data: expect.objectContaining({ id: later.id }) }])

    await reader.cancel()
    await fastReader.cancel()
    expect(recorder.stats().subscribers).toBe(0)
    await recorder.close()
  })

  it('ends the stream when its signal fires', async () => {
    const listeners = new Set<(r: any) => void>()
    const controller = new AbortController()
    const stream = createFeedStream((l) => (listeners.add(l), () => listeners.delete(l)), { bufferSize: 4, signal: controller.signal })
    const reader = stream.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(FEED_OPENING)
    const pending = reader.read()
    expect(listeners.size).toBe(1)
    controller.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
    expect(listeners.size).toBe(0)
  })
})
