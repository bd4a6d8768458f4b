/**
 * The peer: Portkey's open-source gateway, installed into bench/.peer (gitignored, never the project's
 * dependencies) and run as its own process on loopback, pointed at the same mock as Sluice.
 *
 * `@hono/node-server` and `hono` are pinned with npm overrides: a fresh install of 1.15.2 resolves newer
 * versions and answers every stream with a 500.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { node, root, startProcess, type Started } from './processes.ts'

export const PEER = '@portkey-ai/gateway@1.15.2'
const folder = join(root, 'bench/.peer')
const manifest = {
  name: 'sluice-bench-peer',
  private: true,
  dependencies: { '@portkey-ai/gateway': '1.15.2' },
  overrides: { '@hono/node-server': '1.13.5', hono: '4.9.7' },
}
const entry = join(folder, 'node_modules/@portkey-ai/gateway/build/start-server.js')

function installedVersion(name: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(folder, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return undefined
  }
}

function isInstalled(): boolean {
  return existsSync(entry) && installedVersion('@portkey-ai/gateway') === '1.15.2' && installedVersion('hono') === '4.9.7' && installedVersion('@hono/node-server') === '1.13.5'
}

/** Installs the peer into bench/.peer once (scripts off: its only install script is a no-op patch-package). */
async function ensureInstalled(): Promise<void> {
  if (isInstalled()) return
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  console.log(`(installing ${PEER} into bench/.peer …)`)
  await new Promise<void>((done, fail) => {
    execFile('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], { cwd: folder, timeout: 240_000 }, (error, _stdout, stderr) =>
      error ? fail(new Error(`npm install failed: ${stderr.split('\n').slice(-5).join(' ')}`)) : done())
  })
  if (!isInstalled()) throw new Error('npm install finished but the pinned versions are not in place')
}

/** Starts the peer, or returns the reason it could not be started. */
export async function startPeer(): Promise<Started | string> {
  try {
    await ensureInstalled()
    const port = await freePort()
    const started = await startProcess(node, [entry, `--port=${port}`, '--headless'], {}, /(http:\/\/localhost:\d+)/, folder)
    return { ...started, url: started.url.replace('localhost', '127.0.0.1') }
  } catch (error) {
    return (error as Error)?.message?.split('\n')[0] ?? String(error)
  }
}

/** Headers that make Portkey call OpenAI's API at the mock. */
export function peerHeaders(mockUrl: string): Record<string, string> {
  return { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${mockUrl}/v1`, authorization: 'Bearer x' }
}
