// `ctx.onClientGone` as a plugin author uses it, on a served gateway (the Node response's close) and in process
// with `sluice/testing` (the request's signal).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { definePlugin } from 'sluice'
import { createTestGateway } from 'sluice/testing'
import { eventually, startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'

type Seen = { id: string; afterwards: boolean }
const seen = ((globalThis as { __clientGone?: Seen[] }).__clientGone ??= [])

let gateway: TestGateway
beforeAll(async () => {
  gateway = await startGatewayFromFile('client-gone.config.ts')
})
afterAll(async () => {
  await gateway?.close()
})

it('a served request: the listener fires when the client hangs up, and a listener added afterwards fires at once', async () => {
  const before = seen.length
  const controller = new AbortController()
  const pending = fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ model: 'patient/m', messages: [{ role: 'user', content: 'wait' }] }),
  }).catch((error) => error)
  await new Promise((resolve) => setTimeout(resolve, 200))
  expect(seen.length).toBe(before) // still waiting: the client is there
  controller.abort()
  await pending
  await eventually(() => expect(seen.length).toBe(before + 1))
  expect(seen.at(-1)!.afterwards).toBe(true)
})

it('in process (sluice/testing): the same through the request signal', async () => {
  const gone: string[] = []
  const waiter = definePlugin(() => ({
    name: 'waiter',
    setup(gw) {
      gw.registerProvider({
        name: 'waiter',
        formats: ['openai-chat'],
        async call({ ctx }) {
          await new Promise<void>((resolve) => { ctx.onClientGone(resolve) })
          gone.push(ctx.id)
          throw new Error('the client left')
        },
      })
    },
  }))
  const gw = await createTestGateway({ plugins: [waiter()] })
  const controller = new AbortController()
  const pending = gw.fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ model: 'waiter/m', messages: [{ role: 'user', content: 'wait' }] }),
  }).catch((error) => error)
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(gone).toEqual([])
  controller.abort()
  await pending
  await eventually(() => expect(gone).toHaveLength(1))
  await gw.close()
})
