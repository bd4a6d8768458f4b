/**
 * `sluice check` on a config in a folder of its own, outside this package: the config imports from 'sluice'
 * and its subpaths (resolved by the CLI), and checking it opens nothing — no `.sluice/`, no database — unless
 * `--connect` asks for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const CLI = resolve(import.meta.dirname, '../../bin/sluice.mjs')

const CONFIG = `
import { defineGatewayConfig, definePlugin } from 'sluice'
import { usage, keys, metrics } from 'sluice/plugins'
import { echo } from 'sluice/plugins/providers'

const hello = definePlugin(() => ({ name: 'hello', hooks: { auth() {} } }))

export default defineGatewayConfig({
  plugins: [echo(), keys(), usage(), metrics(), hello()],
})
`

let dir: string

function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, NODE_ENV: 'test' } }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as any).code ?? 1) : 0, stdout, stderr })
    })
  })
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-check-'))
  writeFileSync(join(dir, 'gateway.config.ts'), CONFIG)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('sluice check', () => {
  it('validates a config outside the package that imports from sluice, and lists plugins and hooks without side effects', async () => {
    const result = await sluice('check')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/config is valid: 5 plugin\(s\)/)
    expect(result.stdout).toMatch(/usage\s+hooks: stream, record/)
    expect(result.stdout).toMatch(/keys\s+hooks: auth, limit/)
    expect(result.stdout).toMatch(/hello\s+hooks: auth/)
    expect(result.stdout).toMatch(/nothing was opened or connected/)
    // No storage folder, no usage database, no spill file: the folder holds only the config.
    expect(readdirSync(dir)).toEqual(['gateway.config.ts'])
  })

  it('with --connect opens the storage and runs each plugin\'s start-up, and says each answered', async () => {
    const result = await sluice('check', '--connect')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/storage \(fs\): ok/)
    expect(result.stdout).toMatch(/start-up of usage: ok/)
    expect(existsSync(join(dir, '.sluice', 'usage.db'))).toBe(true)
  })
})
