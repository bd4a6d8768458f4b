/**
 * A stored response belongs to the key that created it: another key can neither read, list, delete nor continue
 * it, nor reference its items — it gets "not found", as for an id that never existed. The routes sit behind the
 * same auth as model calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestGateway, scriptedProvider, type TestGateway } from '../../testing/index.ts'
import { keys, responses } from '../../plugins/index.ts'
import { sdkError, sdkFor } from './helpers.ts'

const ALICE = 'sk-test-responses-alice-0123456789'
const BOB = 'sk-test-responses-bob-0123456789ab'

describe('ownership', () => {
  let gateway: TestGateway
  let upstream: ReturnType<typeof scriptedProvider>

  beforeAll(async () => {
    upstream = scriptedProvider({ name: 'up', replies: [{ text: 'Alice, your secret is safe.' }] })
    gateway = await createTestGateway({ plugins: [upstream, keys({ keys: [{ name: 'alice', key: ALICE }, { name: 'bob', key: BOB }] }), responses()] })
  })
  afterAll(() => gateway.close())

  it("another key cannot read, list, delete, continue or reference someone's response", async () => {
    const alice = sdkFor(gateway, ALICE)
    const bob = sdkFor(gateway, BOB)
    const response = await alice.responses.create({ model: 'up/model', input: 'My secret is 42.' })
    const message = response.output.find((item) => item.type === 'message')!

    expect((await sdkError(bob.responses.retrieve(response.id))).status).toBe(404)
    expect((await sdkError(bob.responses.inputItems.list(response.id))).status).toBe(404)
    expect((await sdkError(bob.responses.delete(response.id))).status).toBe(404)
    const continued = await sdkError(bob.responses.create({ model: 'up/model', previous_response_id: response.id, input: 'What is my secret?' }))
    expect(continued.status).toBe(404)
    expect(continued.code).toBe('previous_response_not_found')
    const referenced = await sdkError(bob.responses.create({ model: 'up/model', input: [{ type: 'item_reference', id: message.id }, { role: 'user', content: 'Repeat that.' }] }))
    expect(referenced.status).toBe(400)
    expect(upstream.calls).toHaveLength(1) // none of Bob's attempts reached the upstream

    // Still Alice's, whole.
    expect((await alice.responses.retrieve(response.id)).output_text).toBe('Alice, your secret is safe.')
    await alice.responses.create({ model: 'up/model', previous_response_id: response.id, input: 'And now?' })
    expect(JSON.stringify(upstream.calls[1]!.body)).toContain('My secret is 42.')
  })

  it("an input item id reused by another key does not replace the owner's item", async () => {
    const alice = sdkFor(gateway, ALICE)
    const bob = sdkFor(gateway, BOB)
    const response = await alice.responses.create({ model: 'up/model', input: 'Remember this.' })
    const message = response.output.find((item) => item.type === 'message')!
    await bob.responses.create({
      model: 'up/model',
      input: [{ type: 'message', id: message.id, role: 'assistant', content: [{ type: 'output_text', text: 'forged by bob', annotations: [] }], status: 'completed' }, { role: 'user', content: 'ok' }],
    })
    await alice.responses.create({ model: 'up/model', input: [{ type: 'item_reference', id: message.id }, { role: 'user', content: 'Repeat.' }] })
    const body = JSON.stringify(upstream.calls.at(-1)!.body)
    expect(body).toContain('Alice, your secret is safe.')
    expect(body).not.toContain('forged by bob')
  })

  it('the routes need a valid key, and answer in the Responses error shape', async () => {
    const none = await gateway.fetch(`${gateway.url}/v1/responses/resp_anything`)
    expect(none.status).toBe(401)
    expect((await none.json()).error).toMatchObject({ type: 'authentication_error' })
    const wrong = await gateway.fetch(`${gateway.url}/v1/responses/resp_anything`, { method: 'DELETE', headers: { authorization: 'Bearer sk-test-responses-nobody-000000' } })
    expect(wrong.status).toBe(401)
    const unknown = await gateway.fetch(`${gateway.url}/v1/responses/resp_anything/input_items`, { headers: { authorization: `Bearer ${ALICE}` } })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: { message: "Response with id 'resp_anything' not found.", type: 'invalid_request_error', param: 'response_id', code: 'response_not_found' } })
  })
})
