/**
 * The Requests view in headless Chromium against a real gateway: search for a word a request contained, open
 * its detail page and see the messages, the answer, both attempts of a fallback with targets and timings, usage,
 * cost and the trace id. Screenshots at 1280 and 390 px go to test-results/logs/ (not committed).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { ADMIN_KEY, startDashboardGateway, type DashboardGateway } from '../dashboard/helpers.ts'
import { uniqueWord } from './helpers.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'logs')
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'

const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`[logs] SKIPPING the browser suite: ${CHROMIUM} is missing (apt-get install -y chromium)`)

describe.skipIf(!hasChromium)('the Requests view in a browser', () => {
  let browser: Browser
  let page: Page
  let gw: DashboardGateway
  let a: MockOpenAI
  let b: MockOpenAI

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    ;[a, b] = await Promise.all([startMockOpenAI(), startMockOpenAI()])
    Object.assign(process.env, { LOGS_MOCK_A_URL: a.url, LOGS_MOCK_B_URL: b.url })
    gw = await startDashboardGateway('logs-dashboard.config.ts')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
  })
  afterAll(async () => {
    await page?.close()
    await browser?.close()
    await gw?.close()
    await Promise.all([a?.close(), b?.close()])
  })

  async function shoot(name: string) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width > 800 ? 860 : 844 })
      await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true })
    }
    await page.setViewportSize({ width: 1280, height: 860 })
  }

  it('finds a request by a word it contained and shows its detail: messages, answer, both attempts, usage, cost, trace', async () => {
    const word = uniqueWord('browser')
    const client = gw.client('any-key')
    const { response } = await client.chat.completions.create(
      { model: 'chain', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `[chain-alpha: error 502] what is a ${word}?` }] },
      { headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } },
    ).withResponse()
    const id = response.headers.get('x-request-id')!
    // Another request that must not match the search.
    await client.chat.completions.create({ model: 'a/other', messages: [{ role: 'user', content: 'unrelated words' }] })
    await expect.poll(async () => (await gw.admin(`/admin/requests/${id}`)).status, { timeout: 10_000 }).toBe(200)

    await page.goto(`${gw.url}/dashboard/`)
    await page.fill('#admin-key', ADMIN_KEY)
    await page.click('form.login-card button[type=submit]')
    await page.click('#tab-requests')
    await page.waitForSelector('main#view[data-view="requests"]')
    await page.waitForSelector('#requests-table tbody tr')
    expect(await page.locator('#requests-table tbody tr').count()).toBeGreaterThanOrEqual(2)

    await page.fill('#requests-q', word)
    await page.click('#requests-filters button[type=submit]')
    await page.waitForFunction((rowId) => {
      const rows = document.querySelectorAll('#requests-table tbody tr')
      return rows.length === 1 && (rows[0] as HTMLElement).dataset.id === rowId
    }, id)
    const listed = await page.locator('#requests-table tbody tr').innerText()
    expect(listed).toContain('chain')
    expect(listed).toContain('b/chain-beta')
    await shoot('search')

    await page.click('#requests-table tbody tr a.request-link')
    await page.waitForSelector('#request-summary')
    expect(page.url()).toContain(`#/requests/${id}`)
    expect(await page.locator('#request-messages').innerText()).toContain(`what is a ${word}?`)
    expect(await page.locator('#request-messages').innerText()).toContain('Be brief.')
    expect(await page.locator('#request-answer').innerText()).toContain(`echo: [chain-alpha: error 502] what is a ${word}?`)
    const attempts = page.locator('#request-attempts tbody tr')
    expect(await attempts.count()).toBe(2)
    expect(await attempts.nth(0).innerText()).toMatch(/a\/chain-alpha\s+502/)
    expect(await attempts.nth(1).innerText()).toMatch(/b\/chain-beta\s+200/)
    expect(await attempts.nth(1).innerText()).toMatch(/ms/)
    expect(await page.locator('#request-trace').innerText()).toBe(TRACE_ID)
    expect(await page.locator('#request-cost').innerText()).toMatch(/^\$\d/)
    expect(await page.locator('#request-summary').innerText()).toMatch(/\d+ in \+ \d+ out/)
    await shoot('detail')

    // Back to the list keeps the search.
    await page.click('#request-back')
    await page.waitForSelector('#requests-table tbody tr')
    expect(await page.inputValue('#requests-q')).toBe(word)
  })

  it('an unknown id shows a clear notice, not a blank page', async () => {
    await page.goto(`${gw.url}/dashboard/#/requests/req_not_there`)
    await page.waitForSelector('#request-detail .notice')
    expect(await page.locator('#request-detail').innerText()).toContain('No logged request with id req_not_there')
  })
})
