/**
 * responses() end to end with the official `openai` SDK on an in-process gateway and scripted upstreams in other
 * formats: conversations continued with `previous_response_id` (the upstream gets the whole conversation), tool
 * loops, streams, `store: false`, `item_reference`, the stored-response endpoints, expiry, and the error a gateway
 * without the plugin gives.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createStorage } from 'unstorage'
import { createTestGateway, scriptedProvider, type ScriptedProviderOptions, type TestGateway } from '../../testing/index.ts'
import { responses } from '../../plugins/index.ts'
import type { WireFormat } from '../../core/index.ts'
import { ManualClock, previousNotFoundBody, sdkError, sdkFor, upstreamTexts } from './helpers.ts'

const WEATHER = {
  type: 'function' as const, name: 'get_weather', strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

let gateway: TestGateway | undefined
afterEach(async () => {
  await gateway?.close()
  gateway = undefined
})

async function start(options: { format?: WireFormat; replies?: ScriptedProviderOptions['replies']; clock?: ManualClock; ttlSeconds?: number } = {}) {
  const upstream = scriptedProvider({ name: 'up', format: options.format ?? 'openai-chat', replies: options.replies })
  const storage = createStorage()
  gateway = await createTestGateway({ plugins: [upstream, responses(options.ttlSeconds ? { ttlSeconds: options.ttlSeconds } : {})] }, { storage, clock: options.clock })
  return { upstream, storage, client: sdkFor(gateway), gateway }
}

describe.each<[string, WireFormat]>([
  ['an OpenAI chat upstream', 'openai-chat'],
  ['an Anthropic upstream', 'anthropic-messages'],
])('previous_response_id on %s', (_name, format) => {
  it('sends the stored conversation with the new input, without the old instructions', async () => {
    const { upstream, client } = await start({ format, replies: [{ text: 'Paris.' }, { text: 'About two million.' }] })
    const first = await client.responses.create({ model: 'up/model', instructions: 'Answer in one word.', input: 'Capital of France?' })
    expect(first.output_text).toBe('Paris.')

    const second = await client.responses.create({ model: 'up/model', previous_response_id: first.id, instructions: 'Be precise.', input: 'Its population?' })
    expect(second.output_text).toBe('About two million.')
    expect(second.id).not.toBe(first.id)
    expect(second.previous_response_id).toBe(first.id)
    const body = upstream.calls[1]!.body as Record<string, any>
    expect(upstreamTexts(body).filter((text) => !text.startsWith('system'))).toEqual(['user: Capital of France?', 'assistant: Paris.', 'user: Its population?'])
    expect(JSON.stringify(body)).not.toContain('one word') // instructions are not inherited
    expect(JSON.stringify(body)).toContain('Be precise.')
    expect(JSON.stringify(body)).not.toContain('previous_response_id')
  })

  it('continues a tool loop: the call from the stored response, the output from the new request', async () => {
    const { upstream, client } = await start({
      format,
      replies: [{ toolCalls: [{ id: 'call_paris', name: 'get_weather', arguments: { city: 'Paris' } }] }, { text: 'It is 21°C in Paris.' }],
    })
    const first = await client.responses.create({ model: 'up/model', tools: [WEATHER], input: 'Weather in Paris?' })
    const call = first.output.find((item) => item.type === 'function_call')
    expect(call).toMatchObject({ type: 'function_call', call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' })

    const second = await client.responses.create({
      model: 'up/model', tools: [WEATHER], previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_paris', output: '{"tempC":21}' }],
    })
    expect(second.output_text).toBe('It is 21°C in Paris.')
    const body = JSON.stringify(upstream.calls[1]!.body)
    expect(body).toContain('Weather in Paris?')
    expect(body).toContain('call_paris') // the call (from the stored response) and its result
    expect(body).toContain('{\\"tempC\\":21}')
    expect(body).toContain('get_weather')
  })
})

describe('streams', () => {
  it('keeps a streamed response under the id the client read, and continues from it (stream and not)', async () => {
    const { upstream, client } = await start({ replies: [{ text: 'Paris is the capital.' }, { text: 'Two million people.' }, { text: 'Lyon is second.' }] })
    const stream = client.responses.stream({ model: 'up/model', input: 'Capital of France?' })
    const first = await stream.finalResponse()
    expect(first.output_text).toBe('Paris is the capital.')

    const stored = await client.responses.retrieve(first.id)
    expect(stored.id).toBe(first.id)
    expect(stored.output.map((item) => item.id)).toEqual(first.output.map((item) => item.id))
    expect(stored.output_text).toBe(first.output_text)

    const second = await client.responses.create({ model: 'up/model', previous_response_id: first.id, input: 'Population?', stream: true })
    let secondId = ''
    for await (const event of second) {
      if ('response' in event) expect(event.response.previous_response_id).toBe(first.id)
      if (event.type === 'response.completed') secondId = event.response.id
    }
    expect(upstreamTexts(upstream.calls[1]!.body)).toEqual(['user: Capital of France?', 'assistant: Paris is the capital.', 'user: Population?'])

    const third = await client.responses.create({ model: 'up/model', previous_response_id: secondId, input: 'Second city?' })
    expect(third.output_text).toBe('Lyon is second.')
    expect(upstreamTexts(upstream.calls[2]!.body)).toEqual([
      'user: Capital of France?', 'assistant: Paris is the capital.', 'user: Population?', 'assistant: Two million people.', 'user: Second city?',
    ])
    expect((await client.responses.retrieve(third.id)).previous_response_id).toBe(secondId)
  })

  it('keeps nothing of a stream that broke off', async () => {
    const { storage, client } = await start({ replies: [{ text: 'one two three four', dieAfter: 2 }] })
    const stream = client.responses.stream({ model: 'up/model', input: 'count' })
    await expect(stream.finalResponse()).rejects.toBeDefined()
    await gateway!.waitForRecords(1)
    expect(await storage.getKeys()).toEqual([])
  })
})

describe('store', () => {
  it('store: false keeps nothing: no retrieval, no continuation', async () => {
    const { storage, client } = await start()
    const response = await client.responses.create({ model: 'up/model', input: 'secret', store: false })
    await gateway!.waitForRecords(1)
    expect(await storage.getKeys()).toEqual([])
    expect((await sdkError(client.responses.retrieve(response.id))).status).toBe(404)
    const error = await sdkError(client.responses.create({ model: 'up/model', previous_response_id: response.id, input: 'more' }))
    expect(error.status).toBe(404)
    expect(error.error).toEqual(previousNotFoundBody(response.id).error)
  })

  it('an unknown id is a 404 in the Responses error shape', async () => {
    const { client } = await start()
    const res = await gateway!.fetch(`${gateway!.url}/v1/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'up/model', previous_response_id: 'resp_nope', input: 'hi' }),
    })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual(previousNotFoundBody('resp_nope'))
    expect((await sdkError(client.responses.create({ model: 'up/model', previous_response_id: 'resp_x:y/../z', input: 'hi' }))).status).toBe(404)
  })

  it('a continued request stores the whole conversation as its input (store false on the way does not break the chain)', async () => {
    const { client } = await start({ replies: [{ text: 'A1' }, { text: 'A2' }] })
    const first = await client.responses.create({ model: 'up/model', input: 'Q1' })
    const second = await client.responses.create({ model: 'up/model', previous_response_id: first.id, input: 'Q2' })
    const asc = await client.responses.inputItems.list(second.id, { order: 'asc' })
    expect(asc.data.map((item: any) => item.content?.[0]?.text)).toEqual(['Q1', 'A1', 'Q2'])
    expect(asc.data.every((item) => typeof item.id === 'string' && item.id.length > 0)).toBe(true)
    // A continuation that is not stored still reads the stored chain.
    const off = await client.responses.create({ model: 'up/model', previous_response_id: second.id, input: 'Q3', store: false })
    expect(off.output_text).toBe('A2')
    expect(off.previous_response_id).toBe(second.id)
    expect((await sdkError(client.responses.retrieve(off.id))).status).toBe(404)
  })
})

describe('item_reference', () => {
  it('resolves stored items by id; drops an unknown reasoning reference; refuses any other unknown one', async () => {
    const { upstream, client } = await start({ replies: [{ reasoning: 'They ask for a capital.', text: 'Paris.' }, { text: 'Yes.' }] })
    const first = await client.responses.create({ model: 'up/model', input: 'Capital of France?' })
    const reasoning = first.output.find((item) => item.type === 'reasoning')!
    const message = first.output.find((item) => item.type === 'message')!
    expect(reasoning.id).toMatch(/^rs_/)

    // The AI SDK's second step with the default store: references instead of the items.
    await client.responses.create({
      model: 'up/model',
      input: [
        { role: 'user', content: 'Capital of France?' },
        { type: 'item_reference', id: reasoning.id },
        { type: 'item_reference', id: message.id },
        { type: 'item_reference', id: 'rs_gone' },
        { role: 'user', content: 'Sure?' },
      ],
    })
    expect(upstreamTexts(upstream.calls[1]!.body)).toEqual(['user: Capital of France?', 'assistant: Paris.', 'user: Sure?'])

    const error = await sdkError(client.responses.create({ model: 'up/model', input: [{ type: 'item_reference', id: 'msg_gone' }, { role: 'user', content: 'x' }] }))
    expect(error.status).toBe(400)
    expect(error.param).toBe('input')
    expect(error.message).toContain("item_reference 'msg_gone'")
  })
})

describe('GET / DELETE /v1/responses/{id} and input_items', () => {
  it('retrieves, lists (paged, both orders) and deletes; deleted is gone everywhere', async () => {
    const { client, storage } = await start({ replies: [{ text: 'A1' }, { text: 'A2' }] })
    const first = await client.responses.create({ model: 'up/model', input: [{ role: 'developer', content: 'Be terse.' }, { role: 'user', content: 'Q1' }] })
    const second = await client.responses.create({ model: 'up/model', previous_response_id: first.id, input: 'Q2' })

    const got = await client.responses.retrieve(second.id)
    expect(got).toMatchObject({ id: second.id, object: 'response', status: 'completed', previous_response_id: first.id, output_text: 'A2' })

    const all = await client.responses.inputItems.list(second.id)
    expect(all.data.map((item: any) => item.role)).toEqual(['user', 'assistant', 'user', 'developer']) // desc by default
    const page = await client.responses.inputItems.list(second.id, { order: 'asc', limit: 2 })
    expect(page.data.map((item: any) => item.role)).toEqual(['developer', 'user'])
    expect(page.has_more).toBe(true)
    const rest = await page.getNextPage()
    expect(rest.data.map((item: any) => item.role)).toEqual(['assistant', 'user'])
    expect(rest.has_more).toBe(false)
    const raw = await (await gateway!.fetch(`${gateway!.url}/v1/responses/${second.id}/input_items?limit=1`)).json()
    expect(raw).toMatchObject({ object: 'list', has_more: true, first_id: raw.data[0].id, last_id: raw.data[0].id })
    expect((await gateway!.fetch(`${gateway!.url}/v1/responses/${second.id}/input_items?limit=500`)).status).toBe(400)

    const deleted = await gateway!.fetch(`${gateway!.url}/v1/responses/${first.id}`, { method: 'DELETE' })
    expect(await deleted.json()).toEqual({ id: first.id, object: 'response', deleted: true })
    await client.responses.delete(second.id)
    const missing = await gateway!.fetch(`${gateway!.url}/v1/responses/${first.id}`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).error).toMatchObject({ type: 'invalid_request_error', message: `Response with id '${first.id}' not found.` })
    expect((await sdkError(client.responses.delete(first.id))).status).toBe(404)
    expect((await sdkError(client.responses.create({ model: 'up/model', previous_response_id: second.id, input: 'Q3' }))).status).toBe(404)
    expect(await storage.getKeys()).toEqual([]) // the responses and the items indexed with them
  })
})

describe('expiry', () => {
  it('a response past its TTL is missing (and removed) on every storage driver', async () => {
    const clock = new ManualClock()
    const { client, storage } = await start({ clock, ttlSeconds: 60 })
    const response = await client.responses.create({ model: 'up/model', input: 'hello' })
    clock.advance(59_000)
    expect((await client.responses.retrieve(response.id)).id).toBe(response.id)
    clock.advance(2_000)
    expect((await sdkError(client.responses.retrieve(response.id))).status).toBe(404)
    const error = await sdkError(client.responses.create({ model: 'up/model', previous_response_id: response.id, input: 'again' }))
    expect(error.code).toBe('previous_response_not_found')
    expect((await storage.getKeys()).filter((key) => key.includes('response:'))).toEqual([])
  })
})

describe('without the plugin', () => {
  it('previous_response_id is a 400 naming responses()', async () => {
    const upstream = scriptedProvider({ name: 'up' })
    gateway = await createTestGateway({ plugins: [upstream] })
    const error = await sdkError(sdkFor(gateway).responses.create({ model: 'up/model', previous_response_id: 'resp_abc', input: 'hi' }))
    expect(error.status).toBe(400)
    expect(error.param).toBe('previous_response_id')
    expect(error.message).toContain('responses() plugin')
    expect(upstream.calls).toHaveLength(0)
  })
})
