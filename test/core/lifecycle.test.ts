/** Hot reload without dropping in-flight requests, and graceful shutdown on SIGTERM. */
import { afterEach, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { resolveConfig } from '../../core/config.ts'
import { startServer } from '../../core/server.ts'
import { createLogger } from '../../core/logger.ts'
import { echo } from '../../plugins/providers/index.ts'
import { eventually } from '../helpers/gateway.ts'

const root = resolve(import.meta.dirname, '../..')
const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

const chat = (url: string, model: string, content: string, stream = false) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, stream, messages: [{ role: 'user', content }] }) })

function streamedText(sse: string): string {
  return sse.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? '').join('')
}

describe('hot reload', () => {
  it('swaps the config; a request in flight finishes on the old one; the old plugins are torn down after', async () => {
    const torn: string[] = []
    const withTeardown = (name: string) => ({ name: `teardown-${name}`, setup: () => () => { torn.push(name) } })
    const server = await startServer(
      resolveConfig({ server: { port: 0 }, storage: { driver: 'memory' }, plugins: [echo({ name: 'old', delayMs: 10 }), withTeardown('old')] }),
      { logger: createLogger('silent') },
    )
    try {
      const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ')
      const response = await chat(server.url, 'old/m', words, true) // headers in: the old gateway has it
      expect(response.status).toBe(200)
      const inflight = response.text()
      await Promise.all([
        server.reload(resolveConfig({ server: { port: 0 }, storage: { driver: 'memory' }, plugins: [echo({ name: 'new' }), withTeardown('new')] })),
        (async () => {
          expect(torn).toEqual([]) // the old gateway is still serving its stream
          expect(streamedText(await inflight)).toBe(words)
        })(),
      ])
      expect(torn).toEqual(['old'])
      expect((await chat(server.url, 'old/m', 'x')).status).toBe(404)
      expect((await chat(server.url, 'new/m', 'x')).status).toBe(200)
    } finally {
      await server.close()
    }
  })
})

function startCli(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [resolve(root, 'bin/sluice.mjs'), ...args], { cwd: root, env: { ...process.env, NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let output = ''
  return new Promise((done, fail) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      const match = /listening on (http:\/\/\S+?)(,|\s|$)/.exec(output)
      if (match) done({ child, url: match[1]!, output: () => output })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => fail(new Error(`exited ${code}: ${output}`)))
  })
}

describe('sluice start', () => {
  it('on SIGTERM stops accepting, lets the in-flight stream finish, and exits 0', async () => {
    const { child, url } = await startCli(['start', '--config', 'test/configs/slow-echo.config.ts', '--port', '0'])
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')
    const response = await chat(url, 'echo/m', words, true)
    const body = response.text()
    const exited = new Promise<number | null>((r) => child.on('exit', r))
    child.kill('SIGTERM')
    expect(streamedText(await body)).toBe(words)
    expect(await exited).toBe(0)
    await expect(chat(url, 'echo/m', 'late')).rejects.toThrow()
  })
})

describe('sluice dev', () => {
  it('reloads when the config file changes', async () => {
    const file = resolve(root, `test/configs/tmp-dev-${process.pid}.config.ts`)
    copyFileSync(resolve(root, 'test/configs/slow-echo.config.ts'), file)
    try {
      const { url, output } = await startCli(['dev', '--config', file, '--port', '0'])
      expect((await chat(url, 'echo/m', 'x')).status).toBe(200)
      writeFileSync(file, (await import('node:fs')).readFileSync(file, 'utf8').replace("process.env.SLUICE_TEST_ECHO_NAME ?? 'echo'", "'renamed'"))
      await eventually(async () => expect((await chat(url, 'renamed/m', 'x')).status).toBe(200), 10_000)
      expect((await chat(url, 'echo/m', 'x')).status).toBe(404)
      expect(output()).toContain('config reloaded')
    } finally {
      rmSync(file, { force: true })
    }
  })
})
