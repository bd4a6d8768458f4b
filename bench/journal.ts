/**
 * CPU per record of the usage write-ahead journal: a BatchWriter in front of a store that costs nothing, with the
 * journal off and on, alternating (the first pair is JIT warm-up).
 *
 *   node --import jiti/register bench/journal.ts
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BatchWriter, realClock } from '../core/index.ts'
import { createConsola } from 'consola'
const rec = (i: number) => ({ id: `r${i}`, startedAt: Date.now(), endedAt: Date.now() + 5, principalId: 'k1', principalName: 'bench', requestedModel: 'gpt-4o', provider: 'openai', upstreamModel: 'gpt-4o', api: 'openai-chat', stream: false, status: 200, outcome: 'ok', usage: { inputTokens: 10, outputTokens: 20, cachedTokens: 0, reasoningTokens: 0 }, costUSD: 0.001, latencyMs: 5, ttfbMs: 3, attempts: 1, tags: {} }) as any
for (const journal of [false, true, false, true]) {
  const dir = mkdtempSync(join(tmpdir(), 'jb-'))
  const w = new BatchWriter<any>({ store: { open: async () => {}, insert: async (b: any[]) => b.length, close: async () => {} }, spillFile: join(dir, 's.jsonl'), queueSize: 1e6, batchSize: 100, flushIntervalMs: 250, clock: realClock, logger: createConsola({ level: 0 }), name: 'jb' + Math.random().toString(36).slice(2), journal })
  await w.start()
  const N = 50000
  const c = process.cpuUsage()
  for (let i = 0; i < N; i++) { w.add(rec(i)); if (i % 100 === 0) await new Promise((r) => setImmediate(r)) }
  await w.flush()
  const u = process.cpuUsage(c)
  console.log(`journal ${journal}: ${((u.user + u.system) / N).toFixed(2)} µs CPU per record`)
  await w.close()
}
