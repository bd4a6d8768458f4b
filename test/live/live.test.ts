/**
 * live(): the config file is the base, admin changes are an overlay of numbered snapshots. Checked whole before
 * they apply (a bad section refuses the change, nothing half-applied), with who made each, one-step rollback;
 * a gateway started later on the same storage starts on the current version, and one running beside it
 * follows. Redis pub/sub across processes is covered by test/fleet.
 */
import { createStorage } from 'unstorage'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { startServer, type RunningServer } from '../../core/server.ts'
import { keys, live, router } from '../../plugins/index.ts'
import { echo } from '../../plugins/providers/index.ts'
import { eventually } from '../helpers/gateway.ts'

const ADMIN = 'live-admin-key-0123456789'
const servers: RunningServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function start(storage = createStorage()): Promise<RunningServer> {
  const server = await startServer(resolveConfig({
    server: { port: 0, shutdownTimeout: 2000 },
    adminKey: ADMIN,
    plugins: [
      echo({ name: 'a', delayMs: 5 }), echo({ name: 'b', delayMs: 5 }),
      router({ models: { chat: ['a/m'], spare: ['b/m'] } }),
      live({ checkEveryMs: 100 }),
    ],
  }), { logger: createLogger('silent'), storage })
  servers.push(server)
  return server
}

const admin = (server: RunningServer, method: string, path: string, body?: unknown, actor?: string) => fetch(`${server.url}/admin${path}`, {
  method,
  headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(actor && { 'x-sluice-actor': actor }) },
  body: body === undefined ? undefined : JSON.stringify(body),
})

const ask = (server: RunningServer, model: string, stream = false) => fetch(`${server.url}/v1/chat/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'one two three four five six seven eight' }] }),
})

async function providerOf(server: RunningServer, model: string): Promise<string | null> {
  const response = await ask(server, model)
  await response.text()
  return response.status === 200 ? response.headers.get('x-sluice-provider') : `status ${response.status}`
}

describe('live()', () => {
  it('shows the base, applies a change whole, refuses a bad one with the reason and nothing half-applied', async () => {
    const server = await start()
    const initial = await (await admin(server, 'GET', '/config')).json()
    expect(initial).toMatchObject({ version: 0, overlay: {}, base: { router: { models: { chat: ['a/m'], spare: ['b/m'] } } } })
    expect(initial.sections.sort()).toEqual(['providers', 'router'])
    expect(await providerOf(server, 'chat')).toBe('a')

    const changed = await admin(server, 'PUT', '/config', { overlay: { router: { models: { chat: [{ model: 'b/m', params: { temperature: 0 } }] } } }, note: 'move chat' }, 'alice')
    expect(changed.status).toBe(201)
    expect(await changed.json()).toMatchObject({ version: 1, actor: 'alice', note: 'move chat' })
    expect(await providerOf(server, 'chat')).toBe('b')

    // One good section and one bad: refused whole, the provider stays on.
    const refused = await admin(server, 'PUT', '/config', { overlay: { providers: { disabled: ['a'] }, router: { models: { chat: ['nope/m'] } } } })
    expect(refused.status).toBe(400)
    const { error } = await refused.json()
    expect(error.message).toContain('nothing was applied')
    expect(error.message).toContain('router: model "chat": no provider "nope" is registered')
    expect((await (await admin(server, 'GET', '/config')).json()).version).toBe(1)
    expect(await providerOf(server, 'a/m')).toBe('a')

    for (const [overlay, reason] of [
      [{ routes: {} }, 'unknown section "routes"'],
      [{ router: { models: { chat: [] } } }, 'router'],
      [{ router: { models: { chat: [{ model: 'b/m', weight: -1 }] } } }, 'router'],
      [{ providers: { disabled: ['ghost'] } }, 'providers: no provider "ghost" is registered'],
    ] as const) {
      const response = await admin(server, 'PUT', '/config', { overlay })
      expect(response.status, JSON.stringify(overlay)).toBe(400)
      expect((await response.json()).error.message).toContain(reason)
    }
    expect((await admin(server, 'PUT', '/config', { overlay: {}, baseVersion: 0 })).status).toBe(409)
  })

  it('switches a provider off and on; removes and adds aliases; history names who; rollback restores the one before', async () => {
    const server = await start()
    expect((await admin(server, 'PUT', '/config', { overlay: { providers: { disabled: ['a'] } } }, 'bob')).status).toBe(201)
    expect(await providerOf(server, 'a/m')).toBe('status 503')
    const off = await ask(server, 'chat')
    expect(off.status).toBe(503)
    expect((await off.json()).error.code).toBe('provider_disabled')
    expect(await providerOf(server, 'b/m')).toBe('b')

    expect((await admin(server, 'PUT', '/config', { overlay: { router: { models: { spare: null, fresh: ['a/m', 'b/m'] } } } }, 'carol')).status).toBe(201)
    expect(await providerOf(server, 'a/m')).toBe('a') // the new overlay no longer switches it off
    expect(await providerOf(server, 'fresh')).toBe('a')
    expect(await providerOf(server, 'spare')).toBe('status 404')

    const history = await (await admin(server, 'GET', '/config/history')).json()
    expect(history.data.map((s: any) => [s.version, s.actor])).toEqual([[2, 'carol'], [1, 'bob']])

    const rolledBack = await admin(server, 'POST', '/config/rollback', {}, 'dave')
    expect(rolledBack.status).toBe(201)
    expect(await rolledBack.json()).toMatchObject({ version: 3, restores: 1, actor: 'dave', overlay: { providers: { disabled: ['a'] } } })
    expect(await providerOf(server, 'a/m')).toBe('status 503')
    expect(await providerOf(server, 'spare')).toBe('b')
    // Back to the config file alone.
    expect((await admin(server, 'POST', '/config/rollback', { to: 0 })).status).toBe(201)
    expect(await providerOf(server, 'a/m')).toBe('a')
    expect(await providerOf(server, 'chat')).toBe('a')
  })

  it('a request in flight finishes on the plan it started with', async () => {
    const server = await start()
    const streaming = await ask(server, 'chat', true)
    expect(streaming.headers.get('x-sluice-provider')).toBe('a')
    expect((await admin(server, 'PUT', '/config', { overlay: { router: { models: { chat: ['b/m'] } } } })).status).toBe(201)
    const text = await streaming.text()
    expect(text).toContain('data: [DONE]')
    expect(text).toContain('eight')
    expect(await providerOf(server, 'chat')).toBe('b')
  })

  it('a gateway on the same storage follows a change, and one started later begins on the current version', async () => {
    const storage = createStorage()
    const first = await start(storage)
    const second = await start(storage)
    expect((await admin(first, 'PUT', '/config', { overlay: { router: { models: { chat: ['b/m'] } } } })).status).toBe(201)
    await eventually(async () => expect(await providerOf(second, 'chat')).toBe('b'), 2000)
    const later = await start(storage)
    expect(await providerOf(later, 'chat')).toBe('b')
    expect((await (await admin(later, 'GET', '/config')).json()).version).toBe(1)
  })

  it('changes a config key\'s allowed models and switches it off, then gives the config file\'s back', async () => {
    const token = 'sk-live-config-key-0123456789'
    const server = await startServer(resolveConfig({
      server: { port: 0, shutdownTimeout: 2000 },
      adminKey: ADMIN,
      plugins: [echo({ name: 'a' }), echo({ name: 'b' }), keys({ keys: [{ name: 'team', key: token, models: ['a/m', 'b/m'] }] }), live()],
    }), { logger: createLogger('silent'), storage: createStorage() })
    servers.push(server)
    const call = async (model: string) => (await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    })).status
    expect([await call('a/m'), await call('b/m')]).toEqual([200, 200])
    expect((await (await admin(server, 'GET', '/config')).json()).base.keys).toEqual({ team: { models: ['a/m', 'b/m'] } })

    expect((await admin(server, 'PUT', '/config', { overlay: { keys: { team: { models: ['b/m'] } } } })).status).toBe(201)
    expect([await call('a/m'), await call('b/m')]).toEqual([403, 200])
    expect((await admin(server, 'PUT', '/config', { overlay: { keys: { team: { disabled: true } } } })).status).toBe(201)
    expect(await call('b/m')).toBe(401)
    const refused = await admin(server, 'PUT', '/config', { overlay: { keys: { stranger: { disabled: true } } } })
    expect(refused.status).toBe(400)
    expect((await refused.json()).error.message).toContain('no key named "stranger"')
    expect((await admin(server, 'POST', '/config/rollback', { to: 0 })).status).toBe(201)
    expect([await call('a/m'), await call('b/m')]).toEqual([200, 200])
  })
})
