/**
 * The console in headless Chromium against real gateways: sign-in, live feed, overview totals, key life cycle,
 * the other views, a gateway without usage, and the feed reconnecting after a restart. Screenshots of each
 * view at 1280 and 390 px go to test-results/dashboard/ (not committed).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { eventually } from '../helpers/gateway.ts'
import { ADMIN_KEY, startDashboardGateway, type DashboardGateway } from './helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'dashboard')
const WIDTHS = [1280, 390]

const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`[dashboard] SKIPPING the browser suite: ${CHROMIUM} is missing (apt-get install -y chromium)`)

let browser: Browser
let gw: DashboardGateway
let page: Page

async function signIn(p: Page, url: string, key = ADMIN_KEY) {
  await p.goto(`${url}/dashboard/`)
  await p.fill('#admin-key', key)
  await p.click('form.login-card button[type=submit]')
}

async function openView(p: Page, name: string) {
  await p.click(`#tab-${name}`)
  await p.waitForSelector(`main#view[data-view="${name}"]`)
}

async function shoot(p: Page, name: string) {
  for (const width of WIDTHS) {
    await p.setViewportSize({ width, height: width > 800 ? 860 : 844 })
    await p.waitForTimeout(150) // let the charts redraw at the new width
    await p.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true })
  }
  await p.setViewportSize({ width: 1280, height: 860 })
}

const text = (p: Page, selector: string) => p.locator(selector).innerText()

beforeAll(async () => {
  if (!hasChromium) return
  mkdirSync(SHOTS, { recursive: true })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
})
afterAll(async () => {
  await browser?.close()
})

describe.skipIf(!hasChromium)('dashboard in a browser', () => {
  beforeAll(async () => {
    gw = await startDashboardGateway()
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
  })
  afterAll(async () => {
    await page?.close()
    await gw?.close()
  })

  it('refuses a wrong admin key with a clear message', async () => {
    await signIn(page, gw.url, 'not-the-admin-key')
    await page.waitForSelector('.login-status .notice-error')
    expect(await text(page, '.login-status')).toContain('Wrong admin key')
    await shoot(page, 'login-refused')
  })

  it('signs in and shows each finished request in the live feed; pause holds rows back, the filter narrows them', async () => {
    await signIn(page, gw.url)
    await page.waitForSelector('nav.tabs')
    expect(await page.evaluate(() => sessionStorage.getItem('sluice.adminKey'))).toBe(ADMIN_KEY)
    await openView(page, 'live')
    await page.waitForSelector('#feed-status.feed-open')

    const client = gw.client()
    await client.chat.completions.create({ model: 'echo/live-one', messages: [{ role: 'user', content: 'hello live feed' }] })
    const stream = await client.chat.completions.create({ model: 'echo/live-two', stream: true, messages: [{ role: 'user', content: 'streamed words here' }] })
    for await (const _ of stream) { /* drain */ }
    await page.waitForSelector('#feed-rows tr:has-text("echo/live-two")')
    const rows = await text(page, '#feed-rows')
    expect(rows).toContain('echo/live-one')
    expect(rows).toContain('tester') // the key's name
    expect(rows).toContain('200')

    await page.click('#feed-pause')
    await client.chat.completions.create({ model: 'echo/while-paused', messages: [{ role: 'user', content: 'x' }] })
    await page.waitForFunction(() => document.querySelector('#feed-held')?.textContent === '1 new while paused')
    expect(await text(page, '#feed-rows')).not.toContain('echo/while-paused')
    await page.click('#feed-pause')
    await page.waitForSelector('#feed-rows tr:has-text("echo/while-paused")')

    await page.fill('#feed-filter', 'live-one')
    await page.waitForFunction(() => document.querySelectorAll('#feed-rows tr').length === 1)
    expect(await text(page, '#feed-rows')).toContain('echo/live-one')
    await page.fill('#feed-filter', '')
    await shoot(page, 'live')
  })

  it('counts the requests in the overview totals', async () => {
    await openView(page, 'overview')
    const before = Number((await text(page, '#card-requests .card-value')).replace(/\D/g, ''))
    const client = gw.client()
    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: 'echo/overview', messages: [{ role: 'user', content: 'count me' }] })
    await eventually(async () => {
      await page.click('#overview-refresh')
      await page.waitForTimeout(100)
      const after = Number((await text(page, '#card-requests .card-value')).replace(/\D/g, ''))
      expect(after).toBeGreaterThanOrEqual(before + 2)
    }, 10_000)
    expect(await text(page, '#card-latency .card-value')).toMatch(/ms/)
    expect(await page.locator('.chart svg').count()).toBe(6)
    expect(await text(page, '.banners')).not.toContain('not configured')
    await shoot(page, 'overview')
  })

  it('creates a key, shows its secret once, and revoking it makes the client get 401', async () => {
    await openView(page, 'keys')
    await page.fill('#key-create-name', 'browser-key')
    await page.fill('#key-create-models', 'echo/*')
    await page.fill('#key-create-rpm', '600')
    await page.click('#key-create button[type=submit]')
    await page.waitForSelector('#new-key-secret')
    const secret = (await text(page, '#new-key-secret')).trim()
    expect(secret).toMatch(/^sk-sluice-/)
    await page.waitForSelector('tr[data-name="browser-key"]')
    expect(await text(page, 'tr[data-name="browser-key"]')).toContain('600 rpm')
    await shoot(page, 'keys-created')

    const client = gw.client(secret)
    const ok = await client.chat.completions.create({ model: 'echo/with-new-key', messages: [{ role: 'user', content: 'works' }] })
    expect(ok.choices[0]!.message.content).toContain('works')

    // edit: a budget appears in the list
    await page.click('tr[data-name="browser-key"] button:has-text("Edit")')
    await page.fill('tr.editor input[name="maxUSD"]', '5')
    await page.click('tr.editor button[type=submit]')
    await page.waitForSelector('tr[data-name="browser-key"]:has-text("$5.00")')

    await page.click('tr[data-name="browser-key"] button:has-text("Revoke")')
    await page.click('tr[data-name="browser-key"] button:has-text("Confirm revoke")')
    await page.waitForSelector('tr[data-name="browser-key"]:has-text("revoked")')
    const error = await client.chat.completions.create({ model: 'echo/with-new-key', messages: [{ role: 'user', content: 'now?' }] }).catch((e) => e)
    expect(error.status).toBe(401)
    await shoot(page, 'keys')
  })

  it('shows usage by key with names, targets with circuit state, and the config', async () => {
    await openView(page, 'usage')
    await page.waitForSelector('#usage-table')
    expect(await text(page, '#usage-table')).toContain('tester')
    await shoot(page, 'usage')
    await page.selectOption('#usage-group', 'model')
    await page.waitForSelector('#usage-table:has-text("live-one")')

    await openView(page, 'targets')
    await page.waitForSelector('#targets-table tr[data-target="echo/live-one"]')
    expect(await text(page, '#targets-table tr[data-target="echo/live-one"]')).toContain('closed')
    await shoot(page, 'targets')

    await openView(page, 'config')
    await page.waitForSelector('#config-body table')
    const config = await text(page, '#config-body')
    expect(config).toContain('recorder')
    expect(config).not.toContain(ADMIN_KEY)
    await shoot(page, 'config')
  })

  it('sends a page whose every request is same-origin (works offline)', async () => {
    const fresh = await browser.newPage()
    const foreign: string[] = []
    fresh.on('request', (request) => { if (!request.url().startsWith(gw.url)) foreign.push(request.url()) })
    await signIn(fresh, gw.url)
    await fresh.waitForSelector('#card-requests')
    expect(foreign).toEqual([])
    await fresh.close()
  })
})

describe.skipIf(!hasChromium)('dashboard without usage, and across a restart', () => {
  let bare: DashboardGateway | undefined
  let p: Page
  afterAll(async () => {
    await p?.close()
    await bare?.close()
  })

  it('says clearly that the usage plugin is not configured', async () => {
    bare = await startDashboardGateway('dashboard-bare.config.ts')
    p = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    await signIn(p, bare.url)
    await p.waitForSelector('.banners .notice-warn')
    expect(await text(p, '.banners')).toContain('The usage plugin is not configured')
    // still counts requests from memory
    await bare.client().chat.completions.create({ model: 'echo/bare', messages: [{ role: 'user', content: 'hi' }] })
    await eventually(async () => {
      await p.click('#overview-refresh')
      await p.waitForTimeout(100)
      expect(await text(p, '#card-requests .card-value')).toBe('1')
    }, 10_000)
    await shoot(p, 'overview-no-usage')
    await openView(p, 'live')
    await p.waitForSelector('#feed-status.feed-unavailable')
    expect(await text(p, '.banners')).toContain('usage plugin is not configured')
    await openView(p, 'keys')
    await p.waitForSelector('.banners:has-text("keys plugin is not configured")')
  })

  it('reconnects the live feed after the gateway restarts', async () => {
    const first = await startDashboardGateway()
    const port = Number(new URL(first.url).port)
    await signIn(p, first.url)
    await openView(p, 'live')
    await p.waitForSelector('#feed-status.feed-open')
    await first.close()
    await p.waitForSelector('#feed-status.feed-retrying, #feed-status.feed-connecting')
    const second = await startDashboardGateway('dashboard-full.config.ts', port)
    try {
      await p.waitForSelector('#feed-status.feed-open', { timeout: 15_000 })
      await second.client().chat.completions.create({ model: 'echo/after-restart', messages: [{ role: 'user', content: 'back' }] })
      await p.waitForSelector('#feed-rows tr:has-text("echo/after-restart")')
    } finally {
      await second.close()
    }
  })
})
