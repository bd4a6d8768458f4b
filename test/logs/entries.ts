/** Log entries made up for store tests. */
import type { LogEntry } from '../../plugins/logs/index.ts'

let sequence = 0
export const T0 = Date.UTC(2026, 10, 1, 12, 0, 0)
export const DAY = 86_400_000

export function makeEntry(overrides: Partial<LogEntry> & { words?: string } = {}): LogEntry {
  const { words, ...rest } = overrides
  const n = ++sequence
  const startedAt = rest.startedAt ?? T0 + n
  return {
    id: `req_${String(n).padStart(32, '0')}`,
    startedAt,
    endedAt: startedAt + 100,
    api: 'openai-chat',
    stream: false,
    requestedModel: 'openai/gpt-4o',
    provider: 'openai',
    upstreamModel: 'gpt-4o',
    principalId: 'key_a',
    principalName: 'alpha',
    status: 200,
    outcome: 'ok',
    usage: { inputTokens: 10, outputTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
    latencyMs: 100,
    attempts: 1,
    attemptList: [{ number: 1, provider: 'openai', model: 'gpt-4o', status: 200, outcome: 'ok', offsetMs: 1, durationMs: 90 }],
    content: words === undefined ? undefined : { request: { messages: [{ role: 'user', text: words }] }, response: { text: `answer to ${words}`, toolCalls: [] } },
    ...rest,
  }
}
