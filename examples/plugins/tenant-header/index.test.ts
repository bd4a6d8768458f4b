import { expect, it } from 'vitest'
import { createTestGateway, scriptedProvider } from 'sluice/testing'
import { tenantHeader } from './index.ts'

const request = { model: 'mock/model', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }

it('admits allowed tenants as the principal, refuses others with a 401 in the caller\'s shape', async () => {
  const gw = await createTestGateway({
    plugins: [scriptedProvider({ name: 'mock' }), tenantHeader({ tenants: { acme: { team: 'search' } } })],
  })

  expect((await gw.chat(request, { 'x-tenant': 'acme' })).status).toBe(200)
  const [admitted] = await gw.waitForRecords(1)
  expect(admitted).toMatchObject({ principalId: 'acme', tags: { tenant: 'acme', team: 'search' }, status: 200 })

  const openaiRefusal = await gw.chat(request, { 'x-tenant': 'globex' })
  expect(openaiRefusal.status).toBe(401)
  expect(await openaiRefusal.json()).toMatchObject({ error: { type: 'authentication_error', code: 'unknown_tenant' } })

  const anthropicRefusal = await gw.messages(request)
  expect(anthropicRefusal.status).toBe(401)
  expect(await anthropicRefusal.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })

  const [, ...refused] = await gw.waitForRecords(3)
  expect(refused.map((record) => [record.status, record.principalId])).toEqual([[401, undefined], [401, undefined]])
  await gw.close()
})
