/** The fs store: entries are files that survive a restart; an expired one is not served, and the sweep deletes it. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConsola } from 'consola'
import { afterAll, describe, expect, it } from 'vitest'
import { cache } from '../../plugins/cache/index.ts'
import { parseCacheOptions } from '../../plugins/cache/options.ts'
import { CacheStore } from '../../plugins/cache/store.ts'
import { createTestGateway, scriptedProvider } from '../../testing/index.ts'
import { manualClock } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'sluice-cache-fs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ANSWER = { content: [{ type: 'text' as const, text: 'kept on disk' }], finishReason: 'stop' as const }
const TARGET = { provider: 'mock', model: 'model' }

describe('fs store', () => {
  it('what one gateway stored, the next one started on the same directory serves', async () => {
    const base = join(dir, 'restart')
    const body = { model: 'mock/model', temperature: 0, messages: [{ role: 'user', content: 'remember me' }] }
    for (const expected of ['miss', 'hit']) {
      const upstream = scriptedProvider({ name: 'mock', replies: [{ text: 'remembered' }] })
      const gw = await createTestGateway({ plugins: [upstream, cache({ store: { fs: base } })] })
      const response = await gw.chat(body)
      expect(response.headers.get('x-sluice-cache')).toBe(expected)
      expect((await response.json()).choices[0].message.content).toBe('remembered')
      expect(upstream.calls).toHaveLength(expected === 'miss' ? 1 : 0)
      await gw.close()
    }
    expect(readdirSync(base)).toHaveLength(1)
  })

  it('an expired entry is not served; the sweep deletes expired files and keeps the others', async () => {
    const clock = manualClock()
    const store = new CacheStore(parseCacheOptions({ store: { fs: join(dir, 'sweep') } }), { clock, logger: createConsola({ level: -999 }) })
    expect(await store.set('short', ANSWER, TARGET, 10)).toBe(true)
    expect(await store.set('long', ANSWER, TARGET, 100)).toBe(true)
    clock.advance(10_000)
    expect(await store.get('short')).toBeUndefined()
    expect((await store.get('long'))?.output).toEqual(ANSWER)
    expect(await store.set('short-again', ANSWER, TARGET, 5)).toBe(true)
    clock.advance(5_000)
    expect(await store.sweep()).toBe(1)
    expect(readdirSync(join(dir, 'sweep')).sort()).toEqual(['long'])
    await store.close()
  })

  it('an entry larger than maxEntryBytes is not written', async () => {
    const store = new CacheStore(parseCacheOptions({ store: { fs: join(dir, 'cap') }, maxEntryBytes: 200 }), { clock: manualClock(), logger: createConsola({ level: -999 }) })
    expect(await store.set('big', { ...ANSWER, content: [{ type: 'text', text: 'x'.repeat(300) }] }, TARGET, 60)).toBe(false)
    expect(await store.set('small', ANSWER, TARGET, 60)).toBe(true)
    expect(readdirSync(join(dir, 'cap'))).toEqual(['small'])
    await store.close()
  })
})
