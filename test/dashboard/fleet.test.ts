/**
 * dashboard({ fleet }): two gateways on one Redis prefix act as one dashboard: each one's overview counts both
 * one's requests (percentiles over the fleet), the fleet list shows both with their requests in flight, and the
 * feed on one carries the other's records, each naming its replica. Needs REDIS_URL; skips with a message.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { startServer, type RunningServer } from '../../core/server.ts'
import { dashboard } from '../../plugins/dashboard/index.ts'
import { echo } from '../../plugins/providers/index.ts'
import { eventually } from '../helpers/gateway.ts'

const redisUrl = process.env.REDIS_URL
if (!redisUrl) console.warn('[test/dashboard/fleet] REDIS_URL is not set: skipping the fleet dashboard test')

const ADMIN = 'fleet-dashboard-admin-key-01'
const prefix = `sluice-dash-fleet-${process.pid}-${randomBytes(3).toString('hex')}`

describe.skipIf(!redisUrl)('one dashboard over two replicas', () => {
  const servers: RunningServer[] = []
  const start = async (replica: string) => {
    const server = await startServer(resolveConfig({
      server: { port: 0, shutdownTimeout: 2000 },
      storage: { driver: 'memory' },
      adminKey: ADMIN,
      plugins: [echo({ delayMs: 30 }), dashboard({ fleet: { redis: redisUrl!, prefix, heartbeatMs: 200, replica } })],
    }), { logger: createLogger('silent') })
    servers.push(server)
    return server
  }
  let a: RunningServer
  let b: RunningServer

  beforeAll(async () => {
    a = await start('replica-a')
    b = await start('replica-b')
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
    const redis = new Redis(redisUrl!)
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length) await redis.del(...keys)
    await redis.quit()
  })

  const admin = async (server: RunningServer, path: string) => (await fetch(`${server.url}/admin${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()
  const ask = (server: RunningServer, content: string, stream = false) => fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'echo/m', stream, messages: [{ role: 'user', content }] }),
  })

  it('shares records, in-flight counts and the feed, each naming its replica', async () => {
    // The feed on A, read while B serves.
    const controller = new AbortController()
    const feed = await fetch(`${a.url}/admin/dashboard/feed`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: controller.signal })
    expect(feed.status).toBe(200)
    let feedText = ''
    const reading = (async () => {
      const decoder = new TextDecoder()
      try {
        for await (const chunk of feed.body!) feedText += decoder.decode(chunk as Uint8Array, { stream: true })
      } catch {}
    })()

    for (let i = 0; i < 3; i++) await (await ask(a, `on a ${i}`)).text()
    for (let i = 0; i < 2; i++) await (await ask(b, `on b ${i}`)).text()

    await eventually(async () => expect((await admin(a, '/dashboard/overview?range=hour')).totals.requests).toBe(5), 5000)
    await eventually(async () => expect((await admin(b, '/dashboard/overview?range=hour')).totals.requests).toBe(5), 5000)
    await eventually(() => expect(feedText).toContain('"replica":"replica-b"'), 5000)
    expect(feedText).toContain('"replica":"replica-a"')
    controller.abort()
    await reading

    // A long stream in flight on B shows in A's fleet list.
    const long = await ask(b, Array.from({ length: 60 }, (_, i) => `w${i}`).join(' '), true)
    await eventually(async () => {
      const fleet = await admin(a, '/dashboard/fleet')
      expect(fleet.replicas.map((r: any) => r.replica)).toEqual(['replica-a', 'replica-b'])
      expect(fleet.replicas.find((r: any) => r.replica === 'replica-b').inflight).toBe(1)
      expect(fleet.inflight).toBe(1)
    }, 5000)
    await long.text()
    await eventually(async () => {
      const fleet = await admin(a, '/dashboard/fleet')
      expect(fleet.inflight).toBe(0)
      expect(fleet.replicas.find((r: any) => r.replica === 'replica-b').recent.requests).toBe(3)
      expect(fleet.replicas.find((r: any) => r.replica === 'replica-a').recent.requests).toBe(3)
    }, 5000)
  }, 60_000)

  it.skipIf(!existsSync('/usr/bin/chromium'))('the console shows the replicas on the overview and each feed row\'s replica', async () => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
      await page.goto(`${a.url}/dashboard/`)
      await page.fill('#admin-key', ADMIN)
      await page.click('form.login-card button[type=submit]')
      await page.waitForSelector('#fleet-replicas tr[data-replica="replica-b"]')
      expect(await page.locator('#overview-fleet').innerText()).toContain('2 replicas')
      await page.click('#tab-live')
      await (await ask(b, 'seen from a')).text()
      await page.waitForSelector('#feed-rows tr:has-text("@ replica-b")')
    } finally {
      await browser.close()
    }
  }, 60_000)
})
