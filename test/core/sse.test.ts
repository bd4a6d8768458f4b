import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { SSEParser, eventText, sseEvent } from '../../core/sse.ts'

describe('SSEParser', () => {
  it('parses data, event names, multi-line data and comments', () => {
    const parser = new SSEParser()
    const events = parser.push('event: message_start\ndata: {"a":1}\n\n: keep-alive\n\ndata: line1\ndata: line2\n\n')
    expect(events.map((e) => [e.event, e.data])).toEqual([['message_start', '{"a":1}'], [undefined, ''], [undefined, 'line1\nline2']])
    expect(events[0]!.json).toEqual({ a: 1 })
  })

  it('handles CRLF line ends', () => {
    const events = new SSEParser().push('data: x\r\n\r\ndata: y\r\n\r\n')
    expect(events.map((e) => e.data)).toEqual(['x', 'y'])
  })

  it('keeps each event\'s original text so untouched events pass through byte for byte', () => {
    const input = 'data: {"x": 1}\n\nevent: ping\ndata:{}\n\n'
    const events = new SSEParser().push(input)
    expect(events.map(eventText).join('')).toBe(input)
  })

  it('yields a final event that lacks its blank line at end of stream', () => {
    const parser = new SSEParser()
    expect(parser.push('data: [DONE]')).toEqual([])
    expect(parser.end().map((e) => e.data)).toEqual(['[DONE]'])
  })

  it('serialises replaced events, multi-line data included', () => {
    expect(eventText(sseEvent('a\nb', 'delta'))).toBe('event: delta\ndata: a\ndata: b\n\n')
  })

  it('gives the same events and bytes however the stream is split into chunks', () => {
    const payload = fc.array(fc.record({ event: fc.option(fc.constantFrom('message_start', 'content_block_delta', 'ping'), { nil: undefined }), data: fc.json() }), { minLength: 1, maxLength: 20 })
    fc.assert(fc.property(payload, fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (events, cuts, crlf) => {
      const nl = crlf ? '\r\n' : '\n'
      const text = events.map((e) => (e.event ? `event: ${e.event}${nl}` : '') + `data: ${e.data}${nl}${nl}`).join('')
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
      const parser = new SSEParser()
      const out = []
      let last = 0
      for (const point of [...points, text.length]) {
        out.push(...parser.push(text.slice(last, point)))
        last = point
      }
      out.push(...parser.end())
      expect(out.map((e) => e.data)).toEqual(events.map((e) => e.data))
      expect(out.map((e) => e.event)).toEqual(events.map((e) => e.event))
      expect(out.map(eventText).join('')).toBe(text)
    }))
  })
})
