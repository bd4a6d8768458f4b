/** Test helpers: SSE events as the pipeline hands them over, a small SSE parser, and frame readers. */
import type { SSEEvent, Usage } from '../../core/types.ts'
import type { SSEFrame } from '../../core/formats/types.ts'

export function sse(payload: unknown, event?: string): SSEEvent {
  const data = typeof payload === 'string' ? payload : JSON.stringify(payload)
  let cached: unknown
  let parsed = false
  return {
    event,
    data,
    get json() {
      if (!parsed) {
        parsed = true
        try { cached = JSON.parse(data) } catch { cached = undefined }
      }
      return cached
    },
  }
}

/** Anthropic-style: the event name is the payload's `type`. */
export const anthropicEvent = (payload: Record<string, unknown>) => sse(payload, String(payload.type))

/** Parses an SSE body (LF or CRLF) into events. */
export function parseSSE(text: string): SSEEvent[] {
  const out: SSEEvent[] = []
  for (const block of text.replace(/\r\n/g, '\n').split('\n\n')) {
    if (!block.trim()) continue
    let event: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    if (data.length) out.push(sse(data.join('\n'), event))
  }
  return out
}

export function frameText(frames: SSEFrame[]): string {
  return frames.map((f) => `${f.event ? `event: ${f.event}\n` : ''}data: ${f.data}\n\n`).join('')
}

/** The JSON payloads of frames (skipping `[DONE]`). */
export function payloads(frames: SSEFrame[]): any[] {
  return frames.filter((f) => f.data !== '[DONE]').map((f) => JSON.parse(f.data))
}

export function freshUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }
}

export const INFO = { model: 'client-model', id: 'req123', created: 1_700_000_000 }
