/**
 * The admin API for keys, mounted through `gw.admin` (the core checks the admin key first):
 *   POST   /admin/keys             create; the answer holds the clear key, shown this once
 *   GET    /admin/keys             list (never a secret or a hash)
 *   GET    /admin/keys/:id         one key
 *   PATCH  /admin/keys/:id         update name, models, limits, budget, expiresAt, tags (null clears)
 *   DELETE /admin/keys/:id         revoke
 *   POST   /admin/keys/:id/rotate  new secret for the same id; the old one stops working at once
 *   GET    /admin/keys/:id/spend   spend per period, in-flight reservations, budget left
 * Payloads are validated with zod; anything malformed is a 400 that names the field, never a 500.
 */
import { getRouterParam, type H3Event } from 'h3'
import { GatewayError } from '../../core/index.ts'
import type { z } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import { periodStart, type BudgetLedger } from './budget.ts'
import { shorten } from './estimate.ts'
import type { KeyStore } from './key-store.ts'
import { createKeySchema, PERIODS, toView, updateKeySchema, type KeyRecord } from './schema.ts'

const MAX_PAYLOAD_CHARS = 64 * 1024

type AdminContext = Pick<PluginContext, 'admin' | 'clock' | 'logger' | 'inject'>

export function mountAdmin(gw: AdminContext, store: KeyStore, ledger: BudgetLedger): void {
  const now = () => gw.clock.now()

  gw.admin('POST', '/keys', async (event) => {
    const input = await readPayload(event, createKeySchema)
    const { record, key } = await store.create(input)
    gw.logger.info(`keys: created key ${record.id} ("${record.name}")`)
    return json(201, { ...toView(record, now()), key })
  })

  gw.admin('GET', '/keys', async () => {
    const records = await store.list()
    return { object: 'list', data: records.map((record) => toView(record, now())) }
  })

  gw.admin('GET', '/keys/:id', async (event) => toView(await found(store, keyIdParam(event)), now()))

  gw.admin('PATCH', '/keys/:id', async (event) => {
    const id = keyIdParam(event)
    const patch = await readPayload(event, updateKeySchema)
    const record = await store.update(id, patch)
    gw.logger.info(`keys: updated key ${record.id}`)
    return toView(record, now())
  })

  gw.admin('DELETE', '/keys/:id', async (event) => {
    const record = await store.revoke(keyIdParam(event))
    gw.logger.info(`keys: revoked key ${record.id}`)
    return toView(record, now())
  })

  gw.admin('POST', '/keys/:id/rotate', async (event) => {
    const { record, key } = await store.rotate(keyIdParam(event))
    gw.logger.info(`keys: rotated key ${record.id}`)
    return { ...toView(record, now()), key }
  })

  gw.admin('GET', '/keys/:id/spend', async (event) => {
    const record = await found(store, keyIdParam(event))
    const spend = gw.inject('spend')
    if (!spend) {
      throw new GatewayError(503, 'spend tracking is unavailable: no plugin provides the "spend" service (add usage())', {
        type: 'api_error',
        code: 'spend_unavailable',
      })
    }
    const at = now()
    const spent = await Promise.all(PERIODS.map((period) => spend.spentUSD(record.id, periodStart(period, at)))).catch((error: unknown) => {
      throw new GatewayError(503, 'spend tracking is unavailable right now', { type: 'api_error', code: 'spend_unavailable', cause: error })
    })
    const spentUSD = Object.fromEntries(PERIODS.map((period, i) => [period, spent[i]!]))
    const reservedUSD = ledger.reservedUSD(record.id)
    const budget = record.budget
    return {
      id: record.id,
      spentUSD,
      reservedUSD,
      budget: budget
        ? {
            ...budget,
            periodStart: new Date(periodStart(budget.period, at)).toISOString(),
            remainingUSD: Math.max(0, budget.maxUSD - spentUSD[budget.period]! - reservedUSD),
          }
        : null,
    }
  })
}

async function found(store: KeyStore, id: string): Promise<KeyRecord> {
  const record = await store.get(id)
  if (!record) throw new GatewayError(404, 'no key with this id', { type: 'not_found_error', code: 'key_not_found' })
  return record
}

function keyIdParam(event: H3Event): string {
  let id: string | undefined
  try {
    id = getRouterParam(event, 'id', { decode: true })
  } catch {
    id = undefined
  }
  if (!id || id.length > 200) throw new GatewayError(404, 'no key with this id', { type: 'not_found_error', code: 'key_not_found' })
  return id
}

/** Reads and validates a JSON body: 400 with the offending field for anything else. */
export async function readPayload<S extends z.ZodType>(event: H3Event, schema: S): Promise<z.output<S>> {
  const text = await event.req.text().catch(() => {
    throw badRequest('could not read the request body')
  })
  if (text.length > MAX_PAYLOAD_CHARS) throw new GatewayError(413, `request body is larger than ${MAX_PAYLOAD_CHARS} characters`, { type: 'invalid_request_error' })
  if (!text.trim()) throw badRequest('request body must be a JSON object')
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw badRequest('request body is not valid JSON')
  }
  const result = schema.safeParse(data, { reportInput: true })
  if (!result.success) throw badRequest(`invalid request body: ${describeField(result.error.issues[0]!)}`)
  return result.data
}

/** One readable line per issue, naming the field (`budget.maxUSD`) the way an API client calls it. */
export function describeField(issue: z.core.$ZodIssue): string {
  const path = shorten(issue.path.map(String).join('.'), 100)
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.slice(0, 5).map((k) => `"${shorten(path ? `${path}.${k}` : k, 60)}"`)
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${names.join(', ')}${issue.keys.length > 5 ? ', ...' : ''}`
  }
  // Needs `reportInput: true` on the parse, or every issue's input reads as undefined.
  if (issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined) {
    return path ? `field "${path}" is required` : 'a JSON object is required'
  }
  return path ? `field "${path}": ${issue.message}` : issue.message
}

function badRequest(message: string): GatewayError {
  return new GatewayError(400, message, { type: 'invalid_request_error', code: 'invalid_payload' })
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } })
}
