/** What every request log store must do, run against SQLite and (with DATABASE_URL) Postgres. */
import { describe, expect, it } from 'vitest'
import type { LogStore } from '../../plugins/logs/index.ts'
import { rowOf } from '../../plugins/logs/store.ts'
import { DAY, T0, makeEntry } from './entries.ts'

export function storeSuite(name: string, fresh: () => Promise<LogStore>) {
  describe(`${name} store`, () => {
    it('stores an entry once (a replayed id is skipped), reads it back whole, and lists summaries newest first', async () => {
      const store = await fresh()
      const a = makeEntry({ startedAt: T0, words: 'alpha bravo' })
      const b = makeEntry({ startedAt: T0 + 1000 })
      expect(await store.insert([a, b])).toBe(2)
      expect(await store.insert([a])).toBe(0)
      expect(await store.get(a.id)).toEqual(a)
      expect(await store.get('req_missing')).toBeUndefined()
      const page = await store.list({ limit: 10 })
      expect(page.data.map((e) => e.id)).toEqual([b.id, a.id])
      expect(page.data[1]).toMatchObject({ id: a.id, hasContent: true })
      expect(page.data[1]).not.toHaveProperty('content')
      expect(page.nextCursor).toBeUndefined()
      expect(await store.count()).toBe(2)
      await store.close()
    })

    it('free text matches every word (prefixes too) across request, answer and error; odd input is harmless', async () => {
      const store = await fresh()
      const one = makeEntry({ words: 'the quick brown fox' })
      const two = makeEntry({ words: 'a lazy dog', errorMessage: 'upstream exploded' })
      const three = makeEntry({ words: 'Ünïcode café' })
      const four = makeEntry({ words: 'mail ops-team@example.org about /var/log/sluice_gateway.txt' })
      await store.insert([one, two, three, four])
      const ids = async (q: string) => (await store.list({ q, limit: 10 })).data.map((e) => e.id)
      expect(await ids('quick fox')).toEqual([one.id])
      expect(await ids('qui')).toEqual([one.id])
      expect(await ids('answer')).toEqual([four.id, three.id, two.id, one.id])
      expect(await ids('example.org')).toEqual([four.id])
      expect(await ids('ops team')).toEqual([four.id])
      expect(await ids('sluice_gateway')).toEqual([four.id])
      expect(await ids('exploded')).toEqual([two.id])
      expect(await ids('quick dog')).toEqual([])
      expect(await ids('CAFÉ')).toEqual([three.id])
      expect(await ids('"); DROP TABLE x; -- * NEAR( OR')).toEqual([])
      expect(await ids('***')).toEqual([])
      await store.close()
    })

    it('filters by key, model, provider, status and time; a cursor walks every page once', async () => {
      const store = await fresh()
      const entries = [
        makeEntry({ startedAt: T0, principalId: 'k1', principalName: 'one' }),
        makeEntry({ startedAt: T0 + 10, requestedModel: 'smart', provider: 'anthropic', upstreamModel: 'claude-x' }),
        makeEntry({ startedAt: T0 + 20, status: 429, outcome: 'rate_limit_error' }),
        makeEntry({ startedAt: T0 + 30, status: 502, outcome: 'upstream_error' }),
        makeEntry({ startedAt: T0 + 30, status: 499, outcome: 'client_abort' }),
        makeEntry({ startedAt: T0 + 40 }),
      ]
      await store.insert(entries)
      const ids = async (query: Record<string, unknown>) => (await store.list({ limit: 50, ...query })).data.map((e) => e.id).sort()
      const sorted = (...list: number[]) => list.map((i) => entries[i]!.id).sort()
      expect(await ids({ key: 'k1' })).toEqual(sorted(0))
      expect(await ids({ key: 'one' })).toEqual(sorted(0))
      expect(await ids({ model: 'smart' })).toEqual(sorted(1))
      expect(await ids({ model: 'claude-x' })).toEqual(sorted(1))
      expect(await ids({ model: 'anthropic/claude-x' })).toEqual(sorted(1))
      expect(await ids({ provider: 'anthropic' })).toEqual(sorted(1))
      expect(await ids({ status: 'error' })).toEqual(sorted(2, 3, 4))
      expect(await ids({ status: '4xx' })).toEqual(sorted(2, 4))
      expect(await ids({ status: '5xx' })).toEqual(sorted(3))
      expect(await ids({ status: 429 })).toEqual(sorted(2))
      expect(await ids({ status: 'ok' })).toEqual(sorted(0, 1, 5))
      expect(await ids({ from: T0 + 10, to: T0 + 30 })).toEqual(sorted(1, 2))

      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await store.list({ limit: 2, cursor })
        seen.push(...page.data.map((e) => e.id))
        cursor = page.nextCursor
        pages++
      } while (cursor)
      expect(pages).toBe(3)
      expect(seen).toEqual([...entries].sort((x, y) => y.startedAt - x.startedAt || (y.id < x.id ? -1 : 1)).map((e) => e.id))
      await store.close()
    })

    it('retention by age deletes exactly the entries older than maxAgeDays, and their words', async () => {
      const store = await fresh()
      const now = T0 + 10 * DAY
      const old = [makeEntry({ startedAt: now - 8 * DAY, words: 'ancient' }), makeEntry({ startedAt: now - 7 * DAY - 1, words: 'ancient' })]
      const kept = [makeEntry({ startedAt: now - 7 * DAY, words: 'recent' }), makeEntry({ startedAt: now - 1000, words: 'recent' })]
      await store.insert([...old, ...kept])
      expect(await store.prune({ maxAgeDays: 7 }, now)).toEqual({ byAge: 2, bySize: 0 })
      expect((await store.list({ limit: 10 })).data.map((e) => e.id).sort()).toEqual(kept.map((e) => e.id).sort())
      expect((await store.list({ q: 'ancient', limit: 10 })).data).toEqual([])
      expect((await store.list({ q: 'recent', limit: 10 })).data).toHaveLength(2)
      expect(await store.prune({ maxAgeDays: 7 }, now)).toEqual({ byAge: 0, bySize: 0 })
      await store.close()
    })

    it('retention by rows keeps the newest maxRows entries', async () => {
      const store = await fresh()
      const entries = Array.from({ length: 12 }, (_, i) => makeEntry({ startedAt: T0 + i * 1000 }))
      await store.insert([...entries].reverse())
      expect(await store.prune({ maxRows: 5 }, T0)).toEqual({ byAge: 0, bySize: 7 })
      expect((await store.list({ limit: 50 })).data.map((e) => e.id)).toEqual(entries.slice(7).reverse().map((e) => e.id))
      expect(await store.prune({ maxRows: 5 }, T0)).toEqual({ byAge: 0, bySize: 0 })
      await store.close()
    })

    it('retention by bytes deletes the oldest until the rest fits, and nothing newer', async () => {
      const store = await fresh()
      const big = 'x'.repeat(2000)
      const entries = Array.from({ length: 10 }, (_, i) => makeEntry({ startedAt: T0 + i * 1000, words: `${big} n${i}` }))
      await store.insert(entries)
      const before = await store.list({ limit: 50 })
      expect(before.data).toHaveLength(10)
      // Sizes as the store counts them (the entry's JSON and its search words); 30 KB holds only some of them.
      const sizes = entries.map((entry) => rowOf(entry).size)
      const maxBytes = 30_000
      const newest = (k: number) => sizes.slice(10 - k).reduce((sum, size) => sum + size, 0)
      let fits = 0
      while (fits < 10 && newest(fits + 1) <= maxBytes) fits++
      expect(fits).toBeGreaterThan(1)
      expect(fits).toBeLessThan(9)
      const result = await store.prune({ maxBytes }, T0)
      expect(result).toEqual({ byAge: 0, bySize: 10 - fits })
      // The newest that fit stay: nothing newer than a deleted entry was deleted, and no more than needed.
      const left = (await store.list({ limit: 50 })).data.map((e) => e.id)
      expect(left).toEqual(entries.slice(10 - fits).reverse().map((e) => e.id))
      await store.close()
    })
  })
}
