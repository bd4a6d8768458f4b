/**
 * Single flight: identical requests in flight at once reach the upstream once, and all get the answer — whole or
 * streamed, and when the leader is a stream its followers get the collected answer once it is complete. A leader
 * whose call fails hands the same error to its followers; a leader whose client went away hands over the lead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callsWith, openaiCounts, startRig, uniquePrompt, type CacheRig } from './helpers.ts'

let rig: CacheRig
beforeAll(async () => { rig = await startRig() })
afterAll(() => rig?.close())

const CONCURRENT = 50
const user = (content: string) => [{ role: 'user' as const, content }]

async function streamText(stream: AsyncIterable<any>) {
  let text = ''
  let usage: unknown
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? ''
    if (chunk.usage) usage = chunk.usage
  }
  return { text, usage }
}

describe(`${CONCURRENT} identical requests at once`, () => {
  it('non-stream: one upstream call, every client gets the answer', async () => {
    // [delay] keeps the leader's upstream call open while the others arrive (no timing is asserted).
    const prompt = uniquePrompt('together [delay 100]')
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, () =>
      rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }).withResponse()))
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
    expect(new Set(answers.map((a) => a.data.choices[0]!.message.content))).toEqual(new Set([`echo: ${prompt}`]))
    const results = answers.map((a) => a.response.headers.get('x-sluice-cache'))
    expect(results.filter((r) => r === 'miss')).toHaveLength(1)
    expect(results.filter((r) => r === 'hit')).toHaveLength(CONCURRENT - 1)
    expect(new Set(answers.map((a) => JSON.stringify(openaiCounts(a.data.usage)))).size).toBe(1)
  })

  it('streams: one upstream call; followers of the streamed leader get the whole answer and its usage', async () => {
    const prompt = uniquePrompt('streaming together [slow 4]')
    const answers = await Promise.all(Array.from({ length: CONCURRENT }, async () => {
      const stream = await rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, stream_options: { include_usage: true }, messages: user(prompt) })
      return streamText(stream)
    }))
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
    expect(new Set(answers.map((a) => a.text))).toEqual(new Set(['w0 w1 w2 w3 ']))
    expect(new Set(answers.map((a) => JSON.stringify(openaiCounts(a.usage)))).size).toBe(1)
  })

  it('stream and non-stream clients asking the same thing share one call', async () => {
    const prompt = uniquePrompt('mixed [delay 100]')
    const [whole, streamed] = await Promise.all([
      rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }),
      rig.openai.chat.completions.create({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, messages: user(prompt) }).then(streamText),
    ])
    expect(streamed.text).toBe(whole.choices[0]!.message.content)
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })

  it('a failing call: one upstream call, every client gets its error', async () => {
    const prompt = uniquePrompt('failing together [delay 100] [error 503]')
    const statuses = await Promise.all(Array.from({ length: 10 }, () =>
      rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, messages: user(prompt) }).then((r) => r.status)))
    expect(statuses).toEqual(Array(10).fill(503))
    expect(callsWith(rig.openaiMock, prompt)).toBe(1)
  })

  it('a leader whose client goes away hands the lead to a follower, which gets the whole answer', async () => {
    const prompt = uniquePrompt('handover [slow 6]')
    const leader = await rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, messages: user(prompt) })
    const follower = rig.gw.chat({ model: 'openai/gpt-4o-mini', temperature: 0, stream: true, messages: user(prompt) })
    const reader = leader.body!.getReader()
    await reader.read()
    await reader.cancel()
    const answer = await (await follower).text()
    expect(answer).toContain('w5')
    expect(answer.trimEnd().endsWith('data: [DONE]')).toBe(true)
    expect(callsWith(rig.openaiMock, prompt)).toBe(2)
  })
})
