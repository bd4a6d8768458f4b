/**
 * live() on Postgres without Redis: snapshots are rows (two changes racing for one version: one wins, the other
 * gets 409 and nothing of it applies), and LISTEN/NOTIFY carries a change to the other gateway (its periodic
 * check is off here, so only the notification can have brought it). Needs DATABASE_URL; skips with a message.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createStorage } from 'unstorage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { startServer, type RunningServer } from '../../core/server.ts'
import { live, router } from '../../plugins/index.ts'
import { echo } from '../../plugins/providers/index.ts'
import { eventually } from '../helpers/gateway.ts'

const url = process.env.DATABASE_URL
if (!url) console.warn('[test/live/postgres] DATABASE_URL is not set: skipping the Postgres live config tests')

const ADMIN = 'live-pg-admin-key-012345678'
const schema = `sluice_live_${process.pid}_${randomBytes(3).toString('hex')}`

describe.skipIf(!url)('live() on Postgres', () => {
  const servers: RunningServer[] = []
  let a: RunningServer
  let b: RunningServer
  const start = async () => {
    const server = await startServer(resolveConfig({
      server: { port: 0, shutdownTimeout: 2000 },
      adminKey: ADMIN,
      plugins: [echo({ name: 'a' }), echo({ name: 'b' }), router({ models: { chat: ['a/m'] } }),
        live({ postgres: { url, schema }, channel: `live_${schema}`, checkEveryMs: 0 })],
    }), { logger: createLogger('silent'), storage: createStorage() })
    servers.push(server)
    return server
  }

  beforeAll(async () => {
    a = await start()
    b = await start()
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await client.end()
  })

  const put = (server: RunningServer, overlay: unknown, baseVersion?: number) => fetch(`${server.url}/admin/config`, {
    method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ overlay, baseVersion }),
  })
  const providerOfChat = async (server: RunningServer) => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    })
    await response.text()
    return response.headers.get('x-sluice-provider')
  }

  it('a change made on one gateway reaches the other through NOTIFY within 1 s', async () => {
    expect(await providerOfChat(b)).toBe('a')
    expect((await put(a, { router: { models: { chat: ['b/m'] } } })).status).toBe(201)
    const at = Date.now()
    await eventually(async () => expect(await providerOfChat(b)).toBe('b'), 1000)
    expect(Date.now() - at).toBeLessThan(1000)
  })

  it('two changes made on version 1 at once: one becomes version 2, the other is refused with 409', async () => {
    // Whichever writes first wins; the other either reads the new head (baseVersion no longer matches) or loses
    // the insert on the primary key: 409 either way, and nothing of it applies.
    const [first, second] = await Promise.all([
      put(a, { router: { models: { chat: ['a/m'] } } }, 1),
      put(b, { providers: { disabled: ['b'] } }, 1),
    ])
    expect([first.status, second.status].sort()).toEqual([201, 409])
    const refused = first.status === 409 ? first : second
    expect((await refused.json()).error.code).toBe('version_conflict')
    const history = await (await fetch(`${a.url}/admin/config/history`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()
    expect(history.data.map((s: { version: number }) => s.version)).toEqual([2, 1])
  })
})
