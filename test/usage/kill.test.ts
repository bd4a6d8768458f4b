/**
 * `kill -9` of a gateway process whose answered requests still wait in its write queue (a flush interval far longer
 * than the test): the write-ahead journal beside the spill file keeps them, and the next start stores each one
 * once. Without the journal the same run loses them — the test's control.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually } from '../helpers/gateway.ts'
import { tempDir } from './helpers.ts'
import { send, startGatewayProcess, type Child } from './load.ts'

const CONFIG = 'test/configs/usage-sigterm.config.ts'

let mock: MockOpenAI
let dir: ReturnType<typeof tempDir>
const children: Child[] = []

beforeAll(async () => {
  mock = await startMockOpenAI()
})
afterAll(async () => {
  await mock?.close()
})
afterEach(() => {
  for (const { child } of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  dir?.cleanup()
})

async function start(env: Record<string, string>): Promise<Child> {
  const child = await startGatewayProcess(CONFIG, {
    MOCK_OPENAI_URL: mock.url, USAGE_SQLITE_FILE: join(dir.dir, 'usage.db'), USAGE_SPILL_FILE: join(dir.dir, 'spill.jsonl'), ...env,
  })
  children.push(child)
  return child
}

function storedIds(): string[] {
  const db = new Database(join(dir.dir, 'usage.db'), { readonly: true })
  try {
    return (db.prepare('SELECT id FROM usage_records').all() as Array<{ id: string }>).map((row) => row.id)
  } finally {
    db.close()
  }
}

/** Answers `count` requests on a gateway that writes nothing for a minute, then kills it outright. */
async function answerThenKill(env: Record<string, string>, count: number): Promise<string[]> {
  const gateway = await start({ USAGE_FLUSH_MS: '60000', ...env })
  const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => send(gateway.url, i % 2 ? 'stream' : 'plain')))
  expect(outcomes.every((o) => o.accepted && o.status === 200)).toBe(true)
  // The record hook runs as each answer ends: give the last ones a moment to reach the queue.
  await new Promise((resolve) => setTimeout(resolve, 200))
  gateway.child.kill('SIGKILL')
  await gateway.exited
  return outcomes.map((o) => o.id!)
}

it('every answered request has its record after a kill -9 and a restart, once', async () => {
  dir = tempDir()
  const answered = await answerThenKill({}, 20)
  expect(storedIds()).toEqual([]) // nothing was written before the kill
  expect(readdirSync(dir.dir).some((name) => name.includes('.journal-'))).toBe(true)

  const again = await start({})
  await eventually(() => expect(storedIds().sort()).toEqual([...answered].sort()), 10_000)
  // A request on the new process is recorded too, and the old journal is gone once replayed.
  const next = await send(again.url, 'plain')
  again.child.kill('SIGTERM')
  await again.exited
  expect(storedIds().sort()).toEqual([...answered, next.id!].sort())
  expect(readdirSync(dir.dir).filter((name) => name.includes('.journal-') || name.includes('.replay-'))).toEqual([])
}, 60_000)

it('control: without the journal, the same kill loses the queued records', async () => {
  dir = tempDir()
  await answerThenKill({ USAGE_JOURNAL: 'off' }, 10)
  const again = await start({ USAGE_JOURNAL: 'off' })
  await new Promise((resolve) => setTimeout(resolve, 500))
  again.child.kill('SIGTERM')
  await again.exited
  expect(storedIds()).toEqual([])
}, 60_000)
