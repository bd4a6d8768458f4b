/**
 * `sluice keys create|list|revoke`: the same store as the admin API, on the storage the config sets up.
 * With `redis` configured, a change is also published so running gateways drop their cached copy at once;
 * otherwise they pick it up within their cache TTL.
 */
import { defineCommand, type CommandDef } from 'citty'
import { GatewayError } from '../../core/index.ts'
import type { PluginContext } from '../../core/index.ts'
import { describeField } from './admin.ts'
import { createPublisher } from './invalidation.ts'
import { KeyStore } from './key-store.ts'
import { createKeySchema, PERIODS, toView, type KeysOptions } from './schema.ts'

type CliContext = Pick<PluginContext, 'storage' | 'clock' | 'logger'>
export type Print = (line: string) => void

const DURATION = /^(\d+)\s*(m|h|d|w)$/
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const

export function keysCli(gw: CliContext, options: KeysOptions, print: Print = (line) => process.stdout.write(`${line}\n`)): Record<string, CommandDef<any>> {
  /** A store for one command; with Redis, a publisher that is closed when the command ends. */
  async function withStore<T>(task: (store: KeyStore) => Promise<T>): Promise<T> {
    const invalidator = options.redis ? createPublisher(options.redis, options.channel, gw.logger) : undefined
    const store = new KeyStore({ storage: gw.storage, clock: gw.clock, configKeys: options.keys, positiveTtlMs: 0, invalidator })
    try {
      return await task(store)
    } catch (error) {
      // A GatewayError's message is written for people: show it alone, without a stack.
      if (GatewayError.is(error)) throw new Error(error.message)
      throw error
    } finally {
      await invalidator?.close()
    }
  }

  const create = defineCommand({
    meta: { name: 'create', description: 'Issue a new virtual key (printed once)' },
    args: {
      name: { type: 'string', description: 'A name for the key', required: true },
      models: { type: 'string', description: 'Allowed models, comma-separated (globs like openai/* allowed)' },
      budget: { type: 'string', description: 'Max spend in USD per period' },
      period: { type: 'string', description: `Budget period: ${PERIODS.join(', ')}`, default: 'month' },
      expires: { type: 'string', description: 'Expiry: an ISO date-time or a duration like 30d, 12h' },
      rpm: { type: 'string', description: 'Requests per minute' },
      tpm: { type: 'string', description: 'Tokens per minute' },
      concurrency: { type: 'string', description: 'Max concurrent requests' },
      tags: { type: 'string', description: 'Tags as key=value, comma-separated' },
      json: { type: 'boolean', description: 'Print JSON' },
    },
    run: ({ args }) =>
      withStore(async (store) => {
        const input = parseCreateArgs(args, gw.clock.now())
        const { record, key } = await store.create(input)
        if (args.json) print(JSON.stringify({ ...toView(record, gw.clock.now()), key }))
        else print(`Created key ${record.id} ("${record.name}"). Copy it now; it is not shown again:\n${key}`)
      }),
  })

  const list = defineCommand({
    meta: { name: 'list', description: 'List keys (never their secrets)' },
    args: { json: { type: 'boolean', description: 'Print JSON' } },
    run: ({ args }) =>
      withStore(async (store) => {
        const views = (await store.list()).map((record) => toView(record, gw.clock.now()))
        if (args.json) return print(JSON.stringify(views))
        if (views.length === 0) return print('No keys.')
        for (const view of views) {
          const budget = view.budget ? ` budget=$${view.budget.maxUSD}/${view.budget.period}` : ''
          const models = view.models ? ` models=${view.models.join(',')}` : ''
          const expires = view.expiresAt ? ` expires=${view.expiresAt}` : ''
          print(`${view.id}\t${view.status}\t${view.name}${models}${budget}${expires}`)
        }
      }),
  })

  const revoke = defineCommand({
    meta: { name: 'revoke', description: 'Revoke a key by id' },
    args: { id: { type: 'positional', description: 'The key id', required: true } },
    run: ({ args }) =>
      withStore(async (store) => {
        const record = await store.revoke(String(args.id))
        print(`Revoked key ${record.id} ("${record.name}").`)
      }),
  })

  return { keys: defineCommand({ meta: { name: 'keys', description: 'Manage virtual keys' }, subCommands: { create, list, revoke } }) }
}

/** Turns CLI flags into the admin API's create payload, validated by the same schema. */
export function parseCreateArgs(args: Record<string, unknown>, now: number) {
  const text = (name: string) => (typeof args[name] === 'string' && (args[name] as string).trim() !== '' ? (args[name] as string).trim() : undefined)
  const number = (name: string) => {
    const value = text(name)
    if (value === undefined) return undefined
    const parsed = Number(value)
    if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number, got "${value.slice(0, 40)}"`)
    return parsed
  }
  const payload: Record<string, unknown> = { name: text('name') ?? '' }
  const models = text('models')
  if (models) payload.models = models.split(',').map((m) => m.trim()).filter(Boolean)
  const maxUSD = number('budget')
  if (maxUSD !== undefined) payload.budget = { maxUSD, period: text('period') ?? 'month' }
  const limits = { rpm: number('rpm'), tpm: number('tpm'), maxConcurrent: number('concurrency') }
  if (Object.values(limits).some((v) => v !== undefined)) payload.limits = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined))
  const expires = text('expires')
  if (expires) payload.expiresAt = parseExpiry(expires, now)
  const tags = text('tags')
  if (tags) payload.tags = parseTags(tags)
  const result = createKeySchema.safeParse(payload, { reportInput: true })
  if (!result.success) throw new Error(describeField(result.error.issues[0]!).replace(/field "([^"]+)"/, (_, f: string) => `--${flagFor(f)}`))
  return result.data
}

function parseExpiry(value: string, now: number): string | number {
  const duration = DURATION.exec(value)
  if (duration) return now + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]
  return value
}

function parseTags(value: string): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const pair of value.split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new Error(`--tags wants key=value pairs, got "${pair.slice(0, 40)}"`)
    tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim()
  }
  return tags
}

function flagFor(field: string): string {
  if (field.startsWith('budget.maxUSD')) return 'budget'
  if (field.startsWith('budget.period')) return 'period'
  if (field === 'expiresAt') return 'expires'
  if (field === 'limits.maxConcurrent') return 'concurrency'
  if (field.startsWith('limits.')) return field.slice('limits.'.length)
  return field.split('.')[0]!
}
