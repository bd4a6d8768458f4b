/** `sluice check --connect` shows the live overlay in force over the config file, as such; plain `check` reads nothing. */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadGatewayConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { startServer } from '../../core/server.ts'

const CLI = resolve(import.meta.dirname, '../../bin/sluice.mjs')
const ADMIN = 'live-check-admin-key-0123'
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-live-check-'))
  writeFileSync(join(dir, 'gateway.config.ts'), `
import { defineGatewayConfig } from 'sluice'
import { live, router } from 'sluice/plugins'
import { echo } from 'sluice/plugins/providers'
export default defineGatewayConfig({
  server: { port: 0 },
  adminKey: '${ADMIN}',
  storage: { driver: 'fs', base: '${join(dir, 'kv')}' },
  plugins: [echo(), echo({ name: 'alt' }), router({ models: { chat: ['echo/m'] } }), live()],
})
`)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function sluice(...args: string[]): Promise<string> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, NODE_ENV: 'test' } }, (_error, stdout, stderr) => done(stdout + stderr))
  })
}

describe('sluice check and live config', () => {
  it('shows the overlay in force with its version and author; without --connect says it did not read it', async () => {
    const server = await startServer(await loadGatewayConfig(join(dir, 'gateway.config.ts')), { logger: createLogger('silent') })
    const changed = await fetch(`${server.url}/admin/config`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'x-sluice-actor': 'erin' },
      body: JSON.stringify({ overlay: { router: { models: { chat: ['alt/m'] } } }, note: 'try alt' }),
    })
    expect(changed.status).toBe(201)
    await server.close()

    const connected = await sluice('check', '--connect')
    expect(connected).toContain('live config: version 1 by erin')
    expect(connected).toContain('(try alt), in force over this file:')
    expect(connected).toContain('"alt/m"')
    const plain = await sluice('check')
    expect(plain).toContain('live config: the overlay was not read')
    expect(plain).not.toContain('alt/m"')
  }, 60_000)
})
