/** The dashboard's overview shows the cache's hit rate and savings (headless Chromium), and nothing of it without cache(). */
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser } from 'playwright-core'
import { ADMIN_KEY, startDashboardGateway, type DashboardGateway } from '../dashboard/helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`[cache] SKIPPING the dashboard browser test: ${CHROMIUM} is missing`)

describe.skipIf(!hasChromium)('the overview cache line', () => {
  let browser: Browser
  let gw: DashboardGateway
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
    gw = await startDashboardGateway('dashboard-cache.config.ts')
  })
  afterAll(async () => {
    await browser?.close()
    await gw?.close()
  })

  it('shows hit rate and USD saved from GET /admin/cache', async () => {
    const client = gw.client('unused')
    const ask = (content: string) => client.chat.completions.create({ model: 'echo/echo-1', temperature: 0, messages: [{ role: 'user', content }] })
    await ask('cache me please') // miss
    await ask('cache me please') // hit
    await ask('cache me please') // hit
    await ask('another question') // miss
    const stats = await (await gw.admin('/admin/cache')).json()
    expect(stats).toMatchObject({ store: 'memory', hits: 2, misses: 2, hitRate: 0.5, entries: 2 })
    expect(stats.savedUSD).toBeGreaterThan(0)

    const page = await browser.newPage()
    await page.goto(`${gw.url}/dashboard/`)
    await page.fill('#admin-key', ADMIN_KEY)
    await page.click('form.login-card button[type=submit]')
    await page.waitForSelector('#overview-cache:not([hidden])')
    expect(await page.locator('#cache-hit-rate').innerText()).toBe('50.0%')
    expect(await page.locator('#cache-saved').innerText()).toMatch(/^\$\d/)
    expect(await page.locator('#overview-cache').innerText()).toContain('2 hits, 2 misses')
    if (process.env.SLUICE_CACHE_SHOT) await page.screenshot({ path: process.env.SLUICE_CACHE_SHOT, fullPage: true })
    await page.close()
  })

  it('the line stays hidden on a gateway without cache()', async () => {
    const bare = await startDashboardGateway('dashboard-full.config.ts')
    try {
      expect((await bare.admin('/admin/cache')).status).toBe(404)
      const page = await browser.newPage()
      await page.goto(`${bare.url}/dashboard/`)
      await page.fill('#admin-key', ADMIN_KEY)
      const asked = page.waitForResponse((response) => new URL(response.url()).pathname === '/admin/cache')
      await page.click('form.login-card button[type=submit]')
      expect((await asked).status()).toBe(404)
      await page.waitForSelector('#card-requests')
      expect(await page.locator('#overview-cache').isHidden()).toBe(true)
      await page.close()
    } finally {
      await bare.close()
    }
  })
})
