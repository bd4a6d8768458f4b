/**
 * The Config view with live(): the config file beside the overlay, an edit applied from the browser (and the
 * gateway routing by it), a bad edit refused with the gateway's reason, one-step rollback, and the history
 * naming who made each version.
 */
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ADMIN_KEY, startDashboardGateway, type DashboardGateway } from './helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`[dashboard live config] SKIPPING the browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`)

let browser: Browser
let gw: DashboardGateway
let page: Page

beforeAll(async () => {
  if (!hasChromium) return
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
  gw = await startDashboardGateway('dashboard-live.config.ts')
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
}, 60_000)
afterAll(async () => {
  await gw?.close()
  await browser?.close()
})

async function providerOfChat(): Promise<string | null> {
  const response = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
  })
  await response.text()
  return response.headers.get('x-sluice-provider')
}

describe.skipIf(!hasChromium)('the Config view with live config', () => {
  it('shows the base and the overlay, applies an edit, refuses a bad one with the reason, rolls back', async () => {
    await page.goto(`${gw.url}/dashboard/`)
    await page.fill('#admin-key', ADMIN_KEY)
    await page.click('form.login-card button[type=submit]')
    await page.click('#tab-config')
    await page.waitForSelector('#live-overlay')
    expect(await page.locator('#live-version').innerText()).toContain('Version 0')
    expect(await page.locator('#live-base').innerText()).toContain('echo/m')
    expect(await providerOfChat()).toBe('echo')

    await page.fill('#live-actor', 'frank')
    await page.fill('#live-overlay', JSON.stringify({ router: { models: { chat: ['alt/m'] } } }))
    await page.click('#live-apply')
    await page.waitForSelector('#live-version:has-text("Version 1 in force, made by frank")')
    expect(await providerOfChat()).toBe('alt')

    await page.fill('#live-overlay', JSON.stringify({ router: { models: { chat: ['ghost/m'] } } }))
    await page.click('#live-apply')
    await page.waitForSelector('#live-status .notice-error')
    expect(await page.locator('#live-status').innerText()).toContain('no provider "ghost" is registered')
    expect(await providerOfChat()).toBe('alt')

    await page.click('#live-rollback')
    await page.waitForSelector('#live-version:has-text("Version 2 in force")')
    expect(await providerOfChat()).toBe('echo')
    const history = await page.locator('#live-history').innerText()
    expect(history).toContain('frank')
    expect(history).toContain('rollback to version 0')
    expect(await page.locator('#live-config').innerText()).not.toContain(ADMIN_KEY)
  }, 60_000)
})
