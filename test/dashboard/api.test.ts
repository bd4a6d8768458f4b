/** The dashboard's server side against a real gateway: static assets and its admin routes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../helpers/gateway.ts'
import { ADMIN_KEY, startDashboardGateway, type DashboardGateway } from './helpers.ts'

let gw: DashboardGateway
beforeAll(async () => {
  gw = await startDashboardGateway()
})
afterAll(async () => {
  await gw?.close()
})

describe('static console', () => {
  it('serves the page without an admin key, with a content type, an ETag and a strict CSP', async () => {
    for (const path of ['/dashboard', '/dashboard/']) {
      const response = await fetch(`${gw.url}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(response.headers.get('cache-control')).toBe('no-cache')
      const html = await response.text()
      expect(html).toContain('/dashboard/app.js')
      expect(html).not.toMatch(/https?:\/\//) // nothing from a CDN
    }
  })

  it('serves modules and styles with their types, and answers a matching If-None-Match with 304', async () => {
    const js = await fetch(`${gw.url}/dashboard/views/keys.js`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const etag = js.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    const again = await fetch(`${gw.url}/dashboard/views/keys.js`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const css = await fetch(`${gw.url}/dashboard/style.css`)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(await css.text()).not.toMatch(/@import|url\(\s*["']?https?:/)
  })

  it('answers 404 for files it does not have, including path tricks', async () => {
    for (const path of ['/dashboard/nope.js', '/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/views/../../index.ts']) {
      const response = await fetch(`${gw.url}${path}`)
      expect(response.status, path).toBe(404)
    }
  })
})

describe('dashboard admin routes', () => {
  it('refuses a wrong admin key and accepts the right one', async () => {
    expect((await gw.admin('/admin/dashboard/session', { key: 'wrong-key' })).status).toBe(401)
    expect((await fetch(`${gw.url}/admin/dashboard/session`)).status).toBe(401)
    const ok = await gw.admin('/admin/dashboard/session')
    expect(ok.status).toBe(200)
    expect((await ok.json()).services).toEqual({ pricing: true, spend: true, recorder: true, breakers: true })
  })

  it('reports totals, latency percentiles and targets from finished requests', async () => {
    const client = gw.client()
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'echo/alpha', messages: [{ role: 'user', content: 'one two three' }] })
    await eventually(async () => {
      const overview = await (await gw.admin('/admin/dashboard/overview?range=hour')).json()
      expect(overview.buckets).toHaveLength(60)
      expect(overview.totals.requests).toBe(3)
      expect(overview.totals.inputTokens).toBe(9)
      expect(overview.totals.costUSD).toBeGreaterThan(0)
      expect(overview.totals.latency.p50).toBeGreaterThanOrEqual(0)
      expect(overview.totals.latency.p95).toBeGreaterThanOrEqual(overview.totals.latency.p50)
    })
    const day = await (await gw.admin('/admin/dashboard/overview?range=week')).json()
    expect(day.buckets).toHaveLength(168)
    expect(day.totals.requests).toBe(3)
    expect((await gw.admin('/admin/dashboard/overview?range=year')).status).toBe(400)

    const targets = await (await gw.admin('/admin/dashboard/targets')).json()
    expect(targets.breaker).toBe(true)
    const alpha = targets.targets.find((t: any) => t.target === 'echo/alpha')
    expect(alpha).toMatchObject({ state: 'closed', recent: { requests: 3, errors: 0, errorRate: 0 } })
  })

  it('groups stored usage by minute and hour for the charts', async () => {
    await eventually(async () => {
      const body = await (await gw.admin('/admin/usage?groupBy=minute')).json()
      expect(body.rows.reduce((n: number, r: any) => n + r.requests, 0)).toBeGreaterThanOrEqual(3)
      for (const row of body.rows) expect(Number(row.group) % 60_000).toBe(0)
    })
    const hours = await (await gw.admin('/admin/usage?groupBy=hour')).json()
    for (const row of hours.rows) expect(Number(row.group) % 3_600_000).toBe(0)
  })

  it('lists the loaded plugins with their hooks and shows no secret', async () => {
    const config = await (await gw.admin('/admin/dashboard/config')).json()
    const names = config.plugins.map((p: any) => p.name)
    expect(names).toEqual(expect.arrayContaining(['echo', 'usage', 'dashboard']))
    expect(config.plugins.find((p: any) => p.name === 'usage').hooks).toContain('record')
    expect(config.recorder).toMatchObject({ storeUp: 1 })
    expect(config.dashboard).toEqual({ path: '/dashboard', maxTargets: 500 })
    expect(JSON.stringify(config)).not.toContain(ADMIN_KEY)
  })
})
