/**
 * The memory store is an LRU bounded by entries and by bytes: however many distinct answers pass, it never holds
 * more than either bound, evicts the least recently used first, and says so in its counters and `/metrics`.
 */
import { describe, expect, it } from 'vitest'
import { createStorage } from 'unstorage'
import { memoryLru } from '../../plugins/cache/memory-driver.ts'
import { cache } from '../../plugins/cache/index.ts'
import { metrics } from '../../plugins/metrics/index.ts'
import { createTestGateway, scriptedProvider, TEST_ADMIN_KEY } from '../../testing/index.ts'

describe('the memory LRU driver', () => {
  it('holds at most maxEntries, evicting the least recently used (a read counts as a use)', async () => {
    const evicted: string[] = []
    const lru = memoryLru({ maxEntries: 3, maxBytes: 1_000_000, onEvict: (key) => evicted.push(key) })
    const storage = createStorage({ driver: lru.driver })
    for (const key of ['a', 'b', 'c']) await storage.setItem(key, `value of ${key}`)
    expect(await storage.getItem('a')).toBe('value of a') // a is now the most recent
    await storage.setItem('d', 'value of d')
    await storage.setItem('e', 'value of e')
    expect(evicted).toEqual(['b', 'c'])
    expect((await storage.getKeys()).sort()).toEqual(['a', 'd', 'e'])
    expect(lru.stats().entries).toBe(3)
  })

  it('holds at most maxBytes (UTF-8 bytes of the serialised value); a value larger than the bound is not held', async () => {
    const lru = memoryLru({ maxEntries: 1000, maxBytes: 100 })
    const storage = createStorage({ driver: lru.driver })
    for (let i = 0; i < 10; i++) await storage.setItem(`k${i}`, 'é'.repeat(20)) // 40 bytes each
    expect(lru.stats()).toEqual({ entries: 2, bytes: 80 })
    expect((await storage.getKeys()).sort()).toEqual(['k8', 'k9'])
    await storage.setItem('huge', 'x'.repeat(101))
    expect(await storage.getItem('huge')).toBeNull()
    expect(lru.stats()).toEqual({ entries: 2, bytes: 80 })
    await storage.setItem('k9', 'short') // an overwrite replaces the old size
    expect(lru.stats()).toEqual({ entries: 2, bytes: 45 })
    await storage.removeItem('k8')
    expect(lru.stats()).toEqual({ entries: 1, bytes: 5 })
  })
})

describe('the plugin with many distinct entries', () => {
  async function run(bounds: { maxEntries: number; maxBytes: number }, distinct: number) {
    const upstream = scriptedProvider({ name: 'mock', replies: (n) => ({ text: `answer number ${n} `.repeat(8) }) })
    const gw = await createTestGateway({ adminKey: TEST_ADMIN_KEY, plugins: [upstream, cache(bounds), metrics()] })
    const ask = (i: number) => gw.chat({ model: 'mock/model', temperature: 0, messages: [{ role: 'user', content: `question ${i}` }] })
    for (let i = 0; i < distinct; i++) expect((await ask(i)).headers.get('x-sluice-cache')).toBe('miss')
    const stats = await (await gw.fetch(`${gw.url}/admin/cache`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })).json()
    const scrape = await (await gw.fetch(`${gw.url}/metrics`)).text()
    return { gw, upstream, ask, stats, scrape }
  }

  it('entries: never more than maxEntries, the oldest evicted first, the newest still served', async () => {
    const { gw, upstream, ask, stats, scrape } = await run({ maxEntries: 20, maxBytes: 10_000_000 }, 200)
    expect(stats).toMatchObject({ store: 'memory', entries: 20, misses: 200, stored: 200, evictions: 180 })
    expect(stats.bytes).toBeGreaterThan(0)
    expect(scrape).toMatch(/^sluice_cache_entries 20$/m)
    expect(scrape).toMatch(/^sluice_cache_evictions_total \d+$/m)
    expect((await ask(199)).headers.get('x-sluice-cache')).toBe('hit')
    expect((await ask(180)).headers.get('x-sluice-cache')).toBe('hit')
    expect((await ask(0)).headers.get('x-sluice-cache')).toBe('miss')
    expect(upstream.calls).toHaveLength(201)
    await gw.close()
  })

  it('bytes: never more than maxBytes held', async () => {
    const maxBytes = 4_000
    const { gw, stats } = await run({ maxEntries: 10_000, maxBytes }, 100)
    expect(stats.bytes).toBeLessThanOrEqual(maxBytes)
    expect(stats.entries).toBeGreaterThan(1)
    expect(stats.entries).toBeLessThan(100)
    expect(stats.evictions).toBe(100 - stats.entries)
    await gw.close()
  })
})
