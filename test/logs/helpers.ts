/**
 * The request log end to end: two mock OpenAI upstreams (A and B) behind a router alias with ordered fallback,
 * virtual keys, and logs() into a temp SQLite file (or Postgres), in an in-process gateway reached through the
 * official `openai` client. Admin calls go to the gateway's admin API.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import type { SluicePlugin } from '../../core/index.ts'
import { openaiCompatible } from '../../plugins/providers/index.ts'
import { keys, router } from '../../plugins/index.ts'
import { logs, type LogsOptions } from '../../plugins/logs/index.ts'
import { createTestGateway, type TestGateway } from '../../testing/index.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'

export const ADMIN_KEY = 'logs-admin-key-for-tests-0001'

export interface LogsRig {
  gw: TestGateway
  a: MockOpenAI
  b: MockOpenAI
  dir: string
  /** A virtual key made through the keys admin API (`sk-sluice-…`). */
  key: string
  keyId: string
  client: OpenAI
  admin(path: string): Promise<{ status: number; body: any }>
  /** Waits until the entry of request `id` is stored, and returns it. */
  entry(id: string): Promise<any>
  close(): Promise<void>
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-logs-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** `logsOptions` gets the temp dir, so a test can place the database and spill file there. */
export async function startLogsRig(logsOptions: (dir: string) => LogsOptions = () => ({}), extra: SluicePlugin[] = []): Promise<LogsRig> {
  const { dir, cleanup } = tempDir()
  const [a, b] = await Promise.all([startMockOpenAI(), startMockOpenAI()])
  const gw = await createTestGateway({
    adminKey: ADMIN_KEY,
    plugins: [
      openaiCompatible({ name: 'a', baseURL: a.url }),
      openaiCompatible({ name: 'b', baseURL: b.url }),
      router({ models: { chain: ['a/chain-alpha', 'b/chain-beta'] } }),
      keys(),
      logs({ sqlite: { file: join(dir, 'logs.db') }, spillFile: join(dir, 'logs-spill.jsonl'), flushIntervalMs: 10, ...logsOptions(dir) }),
      ...extra,
    ],
  })
  const admin = async (path: string, init: RequestInit = {}) => {
    const response = await gw.fetch(`${gw.url}/admin${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...(init.headers as object) } })
    const text = await response.text()
    let body: any = text
    try { body = JSON.parse(text) } catch {}
    return { status: response.status, body }
  }
  const created = await admin('/keys', { method: 'POST', body: JSON.stringify({ name: 'logs-test-key' }) })
  if (created.status !== 201) throw new Error(`could not create a key: ${JSON.stringify(created.body)}`)
  const key = created.body.key as string
  return {
    gw, a, b, dir, key, keyId: created.body.id,
    client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, fetch: gw.fetch, maxRetries: 0 }),
    admin: (path) => admin(path),
    async entry(id) {
      const deadline = Date.now() + 10_000
      for (;;) {
        const found = await admin(`/requests/${encodeURIComponent(id)}`)
        if (found.status === 200) return found.body
        if (Date.now() > deadline) throw new Error(`no log entry for ${id}: ${found.status} ${JSON.stringify(found.body)}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    async close() {
      await gw.close()
      await Promise.all([a.close(), b.close()])
      cleanup()
    },
  }
}

let sequence = 0
/** A word no other request of the run carries, to search for. */
export const uniqueWord = (label: string) => `${label}${process.pid}x${++sequence}${Math.random().toString(36).slice(2, 7)}`

/** A port nothing listens on (bound once to learn a free number, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
