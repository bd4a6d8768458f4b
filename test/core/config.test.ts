/** A bad config stops start-up with one clear line that names the key. */
import { describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { resolveConfig } from '../../core/config.ts'
import { ConfigError } from '../../core/errors.ts'

const root = resolve(import.meta.dirname, '../..')

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [resolve(root, 'bin/sluice.mjs'), ...args], { cwd: root, env: { ...process.env, NODE_ENV: 'test' }, timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error ? (error as any).code ?? 1 : 0, stdout, stderr })
    })
  })
}

describe('sluice check', () => {
  it('accepts the default config and lists plugins and hooks', async () => {
    const { code, stdout, stderr } = await runCli(['check'])
    expect(code).toBe(0)
    expect(stdout + stderr).toContain('config is valid')
    expect(stdout + stderr).toMatch(/echo\s+hooks:/)
  })

  it.each([
    ['unknown-key', /unknown key "server\.prot"/],
    ['wrong-type', /key "server\.port"/],
    ['missing-option', /openai: option "apiKey" is required/],
    ['plugin-unknown-option', /openaiCompatible: unknown option "apikey"/],
    ['duplicate', /two plugins are named "echo"/],
  ])('refuses %s with one line naming it', async (name, pattern) => {
    const { code, stdout, stderr } = await runCli(['check', '--config', `test/configs/bad/${name}.config.ts`])
    expect(code).toBe(1)
    const lines = (stdout + stderr).trim().split('\n').filter(Boolean)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(pattern)
    expect(lines[0]).not.toMatch(/\s+at\s/) // no stack trace
  })

  it('reports a missing config file', async () => {
    const { code, stderr, stdout } = await runCli(['check', '--config', 'nope.config.ts'])
    expect(code).toBe(1)
    expect(stdout + stderr).toContain('config file not found')
  })
})

describe('resolveConfig', () => {
  it('fills defaults: loopback, 8787, 4 MB', () => {
    const config = resolveConfig({})
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8787, bodyLimit: 4 * 1024 * 1024 })
  })

  it('parses body limits given as sizes', () => {
    expect(resolveConfig({ server: { bodyLimit: '512kb' } }).server.bodyLimit).toBe(512 * 1024)
    expect(() => resolveConfig({ server: { bodyLimit: 'lots' } })).toThrow(/server\.bodyLimit/)
  })

  it('keeps plugin hooks as given (no validating wrapper around them)', () => {
    const auth = () => {}
    const setup = () => {}
    const [plugin] = resolveConfig({ plugins: [{ name: 'p', hooks: { auth }, setup }] }).plugins
    expect(plugin!.hooks!.auth).toBe(auth)
    expect(plugin!.setup).toBe(setup)
  })

  it('refuses a plugin hook that is not one of the six', () => {
    const error = (() => { try { resolveConfig({ plugins: [{ name: 'x', hooks: { onRequest() {} } as any }] }) } catch (e) { return e } })()
    expect(ConfigError.is(error)).toBe(true)
    expect((error as Error).message).toBe('config: plugin "x": unknown hook "onRequest" (hooks are auth, route, limit, call, stream, record)')
  })

  it('refuses a misspelt plugin field, naming the plugin and the field (a plugin object is strict)', () => {
    const error = (() => { try { resolveConfig({ plugins: [{ name: 'tenant', setUp() {} } as any] }) } catch (e) { return e } })()
    expect(ConfigError.is(error)).toBe(true)
    expect((error as Error).message).toBe('config: plugin "tenant": unknown field "setUp" (a plugin has name, order, enforce, hooks, setup, cli, options)')
  })
})
