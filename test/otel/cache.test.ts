/** With cache(): a hit makes no attempt, and its SERVER span says it was served from the cache. */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { cache } from '../../plugins/index.ts'
import { eventually, freshPair, spansOf, startRig, type Rig } from './helpers.ts'

let rig: Rig
beforeAll(async () => {
  rig = await startRig({}, { plugins: [cache()] })
})
afterAll(async () => {
  await rig?.close()
})

it('a miss has its attempt span; the hit that follows has none, and sluice.cached', async () => {
  const { alias, alpha } = freshPair()
  const ask = () => rig.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content: 'cache me' }] }).withResponse()
  const miss = await ask()
  const hit = await ask()
  expect(hit.response.headers.get('x-sluice-cache')).toBe('hit')
  await eventually(() => expect(spansOf(rig.collector, miss.response.headers.get('x-request-id')).children).toHaveLength(1), 10_000)
  await eventually(() => expect(spansOf(rig.collector, hit.response.headers.get('x-request-id')).server).toBeDefined(), 10_000)
  const { server, children } = spansOf(rig.collector, hit.response.headers.get('x-request-id'))
  expect(children).toHaveLength(0)
  expect(server.attributes).toMatchObject({ 'sluice.cached': true, 'sluice.attempts': 0, 'gen_ai.response.model': alpha, 'http.response.status_code': 200 })
})
