import { runCommand, type CommandDef } from 'citty'
import { afterEach, describe, expect, it } from 'vitest'
import { keysCli, parseCreateArgs } from '../../plugins/keys/cli.ts'
import { keysOptionsSchema } from '../../plugins/keys/schema.ts'
import { startKeys, type KeysRig } from './helpers.ts'

let harness: KeysRig | undefined
afterEach(async () => {
  await harness?.close()
  harness = undefined
})

async function cli() {
  const h = (harness = await startKeys())
  const lines: string[] = []
  const commands = keysCli(h.gw, keysOptionsSchema.parse({}), (line) => lines.push(line))
  const run = (...rawArgs: string[]) => runCommand(commands.keys as CommandDef, { rawArgs })
  return { h, lines, run }
}

describe('sluice keys', () => {
  it('creates a key that works, lists it without its secret, and revokes it', async () => {
    const { h, lines, run } = await cli()
    await run('create', '--name', 'cli-user', '--models', 'openai/*, fast', '--budget', '20', '--period', 'week', '--rpm', '30', '--tags', 'team=a,env=dev', '--expires', '30d')
    const key = lines.join('\n').match(/sk-sluice-\S+/)![0]
    const ctx = h.request({ key, model: 'fast' })
    expect(await h.auth(ctx)).toBeUndefined()
    expect(ctx.principal).toMatchObject({
      name: 'cli-user',
      models: ['openai/*', 'fast'],
      budget: { maxUSD: 20, period: 'week' },
      limits: { rpm: 30 },
      tags: { team: 'a', env: 'dev' },
    })
    const view = (await h.admin('GET', `/admin/keys/${ctx.principal!.id}`)).body
    expect(Date.parse(view.expiresAt) - h.clock.now()).toBe(30 * 86_400_000)

    lines.length = 0
    await run('list')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(ctx.principal!.id)
    expect(lines[0]).toContain('active')
    expect(lines[0]).not.toContain(key.slice(-43))

    lines.length = 0
    await run('revoke', ctx.principal!.id)
    expect(lines[0]).toContain('Revoked')
    // The CLI is another process: a running gateway without pub/sub drops its cached copy within its TTL.
    h.clock.advance(1000)
    expect((await h.auth(h.request({ key })))?.status).toBe(401)
    lines.length = 0
    await run('list', '--json')
    expect(JSON.parse(lines[0]!)[0].status).toBe('revoked')
  })

  it('fails with a clear message naming the flag', async () => {
    const { run } = await cli()
    await expect(run('create')).rejects.toThrow(/--name/)
    await expect(run('create', '--name', 'x', '--budget', 'lots')).rejects.toThrow('--budget must be a number')
    await expect(run('create', '--name', 'x', '--budget', '5', '--period', 'year')).rejects.toThrow(/--period/)
    await expect(run('create', '--name', 'x', '--tags', 'novalue')).rejects.toThrow(/--tags/)
    await expect(run('revoke', 'AAAAAAAAAAAA')).rejects.toThrow('no key with id "AAAAAAAAAAAA"')
  })

  it('maps flags onto the admin payload', () => {
    expect(parseCreateArgs({ name: 'n', concurrency: '3', expires: '2030-01-01T00:00:00Z' }, 0)).toEqual({
      name: 'n',
      limits: { maxConcurrent: 3 },
      expiresAt: Date.UTC(2030, 0, 1),
    })
  })
})
