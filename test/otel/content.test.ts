/** Prompt and completion content: off by default; with `captureContent: true`, recorded with secrets redacted. */
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, freshPair, spansOf, startRig, type Rig } from './helpers.ts'

let rig: Rig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const SECRET = 'sk-live-abcdefghijklmnop1234'

async function serverSpan(r: Rig, id: string | null) {
  await eventually(() => expect(spansOf(r.collector, id).children.length).toBeGreaterThan(0), 10_000)
  return spansOf(r.collector, id).server
}

describe('captureContent', () => {
  it('is off by default: no prompt or completion on any span', async () => {
    rig = await startRig()
    const { alias } = freshPair()
    const { response } = await rig.client.chat.completions
      .create({ model: alias, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: `my key is ${SECRET}` }] })
      .withResponse()
    const server = await serverSpan(rig, response.headers.get('x-request-id'))
    const everything = JSON.stringify(rig.collector.spans)
    expect(server.attributes['gen_ai.input.messages']).toBeUndefined()
    expect(server.attributes['gen_ai.output.messages']).toBeUndefined()
    expect(server.attributes['gen_ai.system_instructions']).toBeUndefined()
    expect(everything).not.toContain('my key is')
    expect(everything).not.toContain(SECRET)
  })

  it.each([false, true])('on: the messages, system instructions and answer in the conventions\' shapes, secrets redacted (stream: %s)', async (stream) => {
    rig = await startRig({ captureContent: true })
    const { alias } = freshPair()
    const request = rig.client.chat.completions.create({
      model: alias,
      stream,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: `my key is ${SECRET} and the header authorization: Bearer abcdefghijklmnopqrstuvwxyz` },
      ],
    })
    const { data, response } = await request.withResponse()
    if (stream) for await (const _ of data as AsyncIterable<unknown>) { /* drain */ }
    const server = await serverSpan(rig, response.headers.get('x-request-id'))

    const input = JSON.parse(String(server.attributes['gen_ai.input.messages']))
    expect(input).toEqual([{ role: 'user', parts: [{ type: 'text', content: expect.stringContaining('my key is [redacted]') }] }])
    expect(input[0].parts[0].content).not.toContain('abcdefghijklmnopqrstuvwxyz')
    expect(JSON.parse(String(server.attributes['gen_ai.system_instructions']))).toEqual([{ type: 'text', content: 'be brief' }])

    const output = JSON.parse(String(server.attributes['gen_ai.output.messages']))
    expect(output).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: expect.stringContaining('echo: my key is [redacted]') }], finish_reason: 'stop' }])
    expect(JSON.stringify(rig.collector.spans)).not.toContain(SECRET)
  })

  it('cuts long texts to maxContentChars', async () => {
    rig = await startRig({ captureContent: true, maxContentChars: 20 })
    const { alias } = freshPair()
    const long = 'word '.repeat(200)
    const { response } = await rig.client.chat.completions.create({ model: alias, messages: [{ role: 'user', content: long }] }).withResponse()
    const server = await serverSpan(rig, response.headers.get('x-request-id'))
    const input = JSON.parse(String(server.attributes['gen_ai.input.messages']))
    expect(input[0].parts[0].content).toBe(`${long.slice(0, 20)}…[truncated]`)
    const output = JSON.parse(String(server.attributes['gen_ai.output.messages']))
    expect(output[0].parts[0].content.endsWith('…[truncated]')).toBe(true)
    expect(output[0].parts[0].content.length).toBeLessThan(60)
  })
})
