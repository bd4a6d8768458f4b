import { afterEach, expect, it } from 'vitest'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { realClock } from 'sluice'
import { pluginHarness } from 'sluice/testing'
import { budgetWebhook, type BudgetAlert } from './index.ts'

interface Delivery { alert: BudgetAlert; idempotencyKey: string }

const receivers: Array<ReturnType<typeof createServer>> = []
afterEach(() => receivers.splice(0).forEach((server) => { server.closeAllConnections(); server.close() }))

/** A local webhook receiver; `answer` decides each response (call n counts from 1) and may leave it hanging. */
async function receiver(answer: (n: number, res: ServerResponse) => void = (_, res) => res.end()) {
  const deliveries: Delivery[] = []
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    deliveries.push({ alert: JSON.parse(body), idempotencyKey: String(req.headers['idempotency-key']) })
    answer(deliveries.length, res)
  })
  receivers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/budget`, deliveries }
}

it('posts once per principal, per threshold, per day', async () => {
  const { url, deliveries } = await receiver()
  let now = Date.UTC(2025, 5, 1, 12)
  const gw = await pluginHarness([budgetWebhook({ url, budgetUSD: 1, thresholds: [0.5, 1] })], { clock: { ...realClock, now: () => now } })
  const spend = (principal: string, costUSD: number) => gw.finish(gw.context({ principal: { id: principal } }), { costUSD })

  for (let i = 0; i < 5; i++) await spend('acme', 0.25) // 0.25, 0.50 (alert), 0.75, 1.00 (alert), 1.25
  await spend('globex', 0.75) // another principal has its own total
  now += 24 * 3600_000
  await spend('acme', 0.5) // a new day starts from zero

  expect(deliveries.map(({ alert }) => [alert.principal, alert.day, alert.threshold, alert.spentUSD])).toEqual([
    ['acme', '2025-06-01', 0.5, 0.5],
    ['acme', '2025-06-01', 1, 1],
    ['globex', '2025-06-01', 0.5, 0.75],
    ['acme', '2025-06-02', 0.5, 0.5],
  ])
  await gw.close()
})

it('retries a failed or timed-out delivery with the same idempotency key; an undeliverable alert is logged, never thrown', async () => {
  const clock = { ...realClock, now: () => Date.UTC(2025, 5, 1, 12) }
  // 503 first, then no answer at all, then accepted.
  const { url, deliveries } = await receiver((n, res) => (n === 1 ? res.writeHead(503).end() : n === 3 ? res.end() : undefined))
  const gw = await pluginHarness([budgetWebhook({ url, budgetUSD: 1, timeoutMs: 200, retryDelayMs: 10 })], { clock })
  await gw.finish(gw.context({ principal: { id: 'acme' } }), { costUSD: 0.9 })
  expect(deliveries.map((delivery) => delivery.idempotencyKey)).toEqual(Array(3).fill('acme:2025-06-01:0.8'))

  const down = await pluginHarness([budgetWebhook({ url: 'http://127.0.0.1:9/', budgetUSD: 1, retries: 1, retryDelayMs: 10 })], { clock })
  await down.finish(down.context({ principal: { id: 'acme' } }), { costUSD: 0.9 })
  expect(down.logs.map((log) => log.args.join(' '))).toContain('budget alert for acme (80% on 2025-06-01) not delivered: the receiver could not be reached')
  await Promise.all([gw.close(), down.close()])
})
