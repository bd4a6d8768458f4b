/**
 * Which requests keep their content: rules (all errors, a model glob, a key) and shares; and retention running
 * on its own in the background.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ContentSampler, globMatcher } from '../../plugins/logs/sampling.ts'
import { createSqliteLogStore } from '../../plugins/logs/index.ts'
import { resolveLogsOptions } from '../../plugins/logs/options.ts'
import { DAY, makeEntry } from './entries.ts'
import { startLogsRig, uniqueWord, type LogsRig } from './helpers.ts'

describe('ContentSampler', () => {
  const subject = { model: 'smart', target: 'openai/gpt-4o-mini', provider: 'openai', principalId: 'key_1', principalName: 'ci-bot' }

  it('globs match whole names', () => {
    expect(globMatcher('openai/*')('openai/gpt-4o')).toBe(true)
    expect(globMatcher('*mini*')('openai/gpt-4o-mini')).toBe(true)
    expect(globMatcher('gpt-4o')('gpt-4o-mini')).toBe(false)
    expect(globMatcher('a.b')('axb')).toBe(false)
  })

  it('the first matching rule decides; a status rule decides only once the status is known', () => {
    const sampler = new ContentSampler(false, [{ status: 'error', content: true }, { key: 'ci-*', content: false }, { model: 'openai/*', content: true }])
    expect(sampler.never).toBe(false)
    expect(sampler.mayCapture(subject, 0.5)).toBe(true) // might end in an error
    expect(sampler.captures(subject, 500, 'upstream_error', 0.5)).toBe(true)
    expect(sampler.captures(subject, 200, 'ok', 0.5)).toBe(false) // the ci-* rule
    expect(sampler.captures({ ...subject, principalName: 'human' }, 200, 'ok', 0.5)).toBe(true) // the target matches openai/*
    expect(sampler.captures({ ...subject, principalName: 'human', target: 'b/x', provider: 'b' }, 200, 'ok', 0.5)).toBe(false)
    expect(sampler.captures(subject, 499, 'client_abort', 0.5)).toBe(true)
  })

  it('a share keeps content for draws below it', () => {
    const sampler = new ContentSampler(0.25, [{ model: 'smart', status: 'ok', content: 0.5 }])
    expect(sampler.captures(subject, 200, 'ok', 0.4)).toBe(true)
    expect(sampler.captures(subject, 200, 'ok', 0.6)).toBe(false)
    expect(sampler.captures(subject, 500, 'upstream_error', 0.2)).toBe(true)
    expect(sampler.captures(subject, 500, 'upstream_error', 0.3)).toBe(false)
    expect(sampler.mayCapture(subject, 0.9)).toBe(false)
    expect(new ContentSampler(false, [{ status: 'error', content: 0 }]).never).toBe(true)
  })

  it('options are checked at load with a clear message', () => {
    expect(() => resolveLogsOptions({ content: 2 })).toThrow(/logs: option "content"/)
    expect(() => resolveLogsOptions({ rules: [{ status: 'error' }] })).toThrow(/logs: option "rules.0.content"/)
    expect(() => resolveLogsOptions({ redact: ['(unclosed'] })).toThrow(/logs: option "redact\[0\]"/)
    expect(() => resolveLogsOptions({ store: 'postgres' }, {})).toThrow(/postgres.url/)
    expect(() => resolveLogsOptions({ retention: { maxAge: 3 } })).toThrow(/unknown option "retention.maxAge"/)
  })
})

describe('rules in a gateway: content off, but all errors and one model kept', () => {
  let rig: LogsRig
  beforeAll(async () => {
    rig = await startLogsRig(() => ({ rules: [{ status: 'error', content: true }, { model: 'b/*', content: true }] }))
  })
  afterAll(() => rig?.close())

  it('an ok request on a/* has no content; an error and a b/* request do', async () => {
    const word = uniqueWord('rules')
    const ok = await rig.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: `${word} ok` }] }).withResponse()
    const error = await rig.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: `[error 500] ${word} broken` }] }).withResponse().catch((e) => e)
    const other = await rig.client.chat.completions.create({ model: 'b/m', messages: [{ role: 'user', content: `${word} other` }] }).withResponse()
    expect(error.status).toBe(500)
    const okEntry = await rig.entry(ok.response.headers.get('x-request-id')!)
    const errorEntry = await rig.entry(error.headers.get('x-request-id'))
    const otherEntry = await rig.entry(other.response.headers.get('x-request-id')!)
    expect(okEntry.content).toBeUndefined()
    expect(errorEntry).toMatchObject({ status: 500, content: { request: { messages: [{ role: 'user', text: `[error 500] ${word} broken` }] } } })
    expect(errorEntry.attemptList).toMatchObject([{ provider: 'a', model: 'm', status: 500, outcome: 'status' }])
    expect(otherEntry.content.response.text).toBe(`echo: ${word} other`)
  })
})

describe('retention in the background', () => {
  let rig: LogsRig
  beforeAll(async () => {
    rig = await startLogsRig((dir) => {
      // Seeded before the gateway starts: two entries far older than a day, one recent.
      const store = createSqliteLogStore({ file: join(dir, 'logs.db') })
      void store.insert([
        makeEntry({ id: 'req_old_1', startedAt: Date.now() - 3 * DAY }),
        makeEntry({ id: 'req_old_2', startedAt: Date.now() - 2 * DAY }),
        makeEntry({ id: 'req_recent', startedAt: Date.now() - 60_000 }),
      ]).then(() => store.close())
      return { retention: { maxAgeDays: 1, intervalMs: 50 } }
    })
  })
  afterAll(() => rig?.close())

  it('deletes entries past maxAgeDays on its timer, and keeps the rest', async () => {
    await expect.poll(async () => (await rig.admin('/requests/req_old_1')).status, { timeout: 10_000 }).toBe(404)
    expect((await rig.admin('/requests/req_old_2')).status).toBe(404)
    expect((await rig.admin('/requests/req_recent')).status).toBe(200)
    const { response } = await rig.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: 'fresh' }] }).withResponse()
    const id = response.headers.get('x-request-id')!
    await rig.entry(id)
    await new Promise((resolve) => setTimeout(resolve, 200)) // a few more passes
    expect((await rig.admin(`/requests/${id}`)).status).toBe(200)
    expect((await rig.admin('/requests/req_recent')).status).toBe(200)
  })
})
