/**
 * A property-based fuzzer against a live gateway process (keys, limiter, router, usage, two providers): generated
 * paths, headers, model names, request ids and bodies, for a bounded number of requests. Whatever it sends:
 * the process stays up; every answer has an honest status (never a 500 — a client's mistake is a 4xx) in the
 * shape of the API the path belongs to; no secret appears in any answer or log line; and every request the
 * pipeline answered has exactly one usage record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { apiOfPath } from '../../core/inbound.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { eventually } from '../helpers/gateway.ts'
import { spawnGateway, tempDir, type GatewayProcess } from '../keys/e2e.ts'

const KEY = 'sk-fuzz-client-key-5b0e8a1c2d3f4e'
const UPSTREAM_KEY = 'sk-fuzz-upstream-key-9c7d6e5f4a3b'
const ADMIN_KEY = 'fuzz-admin-key-1f2e3d4c5b6a7980'
const SECRETS = [KEY, UPSTREAM_KEY, ADMIN_KEY]
/** Requests per run: bounded so the suite takes seconds in CI. */
const RUNS = Number(process.env.SLUICE_FUZZ_RUNS ?? 400)

const MODEL_PATHS = ['/v1/chat/completions', '/v1/messages', '/v1/responses', '/v1/embeddings']
const OTHER_PATHS = ['/v1/messages/count_tokens', '/v1/models', '/v1/nope', '/v1beta/models/x', '/admin/keys', '/', '/health']

let mock: MockOpenAI
let dir: ReturnType<typeof tempDir>
let gateway: GatewayProcess
/** Ids of answers that went through the pipeline (each must have one record). */
const pipelineIds = new Set<string>()
/** How many answers of each status the run got (printed, so a run that only hit one branch shows). */
const statuses = new Map<number, number>()

beforeAll(async () => {
  dir = tempDir('fuzz')
  mock = await startMockOpenAI()
  gateway = await spawnGateway('test/configs/fuzz.config.ts', {
    FUZZ_DIR: dir.path, FUZZ_KEY: KEY, FUZZ_UPSTREAM_KEY: UPSTREAM_KEY, FUZZ_ADMIN_KEY: ADMIN_KEY, MOCK_OPENAI_URL: mock.url,
  })
})
afterAll(async () => {
  await gateway?.stop()
  await mock?.close()
  dir?.remove()
})

// ——— generators ———

const printable = fc.string({ unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZabcxyz[\\]^_`{|}~'.split('')), maxLength: 40 })
const anyText = fc.string({ unit: 'grapheme', maxLength: 60 })
const hostile = fc.constantFrom('\r\nx-evil: 1', '\u0000', '../..', '%2e%2e', 'модель', '🙂', ' ', '', 'a'.repeat(600), '{"$ne":1}', '<script>')

const model = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('echo/echo-1', 'fast', 'up/gpt-4o-mini', 'echo/a/b/c') },
  { weight: 1, arbitrary: fc.constantFrom('nope/x', 'fast ', 'echo') },
  { weight: 1, arbitrary: anyText },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('echo/', 'up/', ''), hostile).map(([a, b]) => a + b) },
)

const content = fc.oneof(anyText, fc.constant('[hang]'.replace('hang', 'x')), fc.array(fc.record({ type: fc.constantFrom('text', 'image_url', 'image', 'tool_result', 'nope'), text: anyText }, { requiredKeys: [] }), { maxLength: 3 }), fc.anything({ maxDepth: 3 }))
const message = fc.oneof(
  { weight: 3, arbitrary: fc.record({ role: fc.constant('user'), content: anyText }) },
  { weight: 2, arbitrary: fc.record({ role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer'), anyText), content }, { requiredKeys: ['role'] }) },
)

const chatLike = fc.record({
  model,
  messages: fc.oneof({ weight: 5, arbitrary: fc.array(message, { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) }),
  input: fc.oneof(anyText, fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 })),
  stream: fc.oneof(fc.boolean(), fc.anything({ maxDepth: 0 })),
  max_tokens: fc.oneof(fc.integer({ min: -10, max: 10_000_000 }), fc.double(), fc.string()),
  max_completion_tokens: fc.integer({ min: -10, max: 10_000_000 }),
  n: fc.integer({ min: -1, max: 200 }),
  tools: fc.array(fc.anything({ maxDepth: 3 }), { maxLength: 3 }),
  temperature: fc.anything({ maxDepth: 0 }),
}, { requiredKeys: ['model', 'messages', 'input'] })

const body = fc.oneof(
  { weight: 6, arbitrary: chatLike.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: printable },
  { weight: 1, arbitrary: fc.integer({ min: 130, max: 3000 }).map((depth) => `{"model":"echo/echo-1","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`) },
)

const request = fc.record({
  path: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...MODEL_PATHS) }, { weight: 2, arbitrary: fc.constantFrom(...OTHER_PATHS) }),
  method: fc.oneof({ weight: 9, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'DELETE', 'PUT') }),
  auth: fc.oneof(
    { weight: 7, arbitrary: fc.constantFrom(['authorization', `Bearer ${KEY}`], ['x-api-key', KEY]) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('authorization', 'x-api-key'), printable) },
  ),
  contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: printable }),
  requestId: fc.option(printable, { nil: undefined }),
  body,
})

type Fuzzed = typeof request extends fc.Arbitrary<infer T> ? T : never

// ——— one request ———

function errorShapeOk(path: string, status: number, text: string): boolean {
  if (status < 400) return true
  let json: any
  try { json = JSON.parse(text) } catch { return false }
  const api = apiOfPath(path)
  if (api === 'anthropic-messages') return json?.type === 'error' && typeof json.error?.type === 'string' && typeof json.error?.message === 'string'
  if (api === 'gemini') return typeof json?.error?.message === 'string' && typeof json.error?.code === 'number'
  return typeof json?.error?.message === 'string' && typeof json.error?.type === 'string'
}

async function send(fuzzed: Fuzzed): Promise<void> {
  const headers: Record<string, string> = { 'content-type': fuzzed.contentType }
  headers[fuzzed.auth[0]] = fuzzed.auth[1]
  if (fuzzed.requestId) headers['x-request-id'] = fuzzed.requestId
  const response = await fetch(`${gateway.url}${fuzzed.path}`, {
    method: fuzzed.method,
    headers,
    body: fuzzed.method === 'GET' ? undefined : fuzzed.body,
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
  const where = `${fuzzed.method} ${fuzzed.path} → ${response.status}: ${text.slice(0, 300)}`
  expect(response.status, where).not.toBe(500)
  if (MODEL_PATHS.includes(fuzzed.path) && fuzzed.method === 'POST') {
    expect(errorShapeOk(fuzzed.path, response.status, text), where).toBe(true)
    const id = response.headers.get('x-request-id')
    expect(id, where).toMatch(/^req_[0-9a-f]{32}$/)
    pipelineIds.add(id!)
  }
  const seen = text + JSON.stringify([...response.headers])
  for (const secret of SECRETS) expect(seen.includes(secret), `${where} leaks a secret`).toBe(false)
}

describe('adversarial fuzzing of a live gateway', () => {
  it(`answers ${RUNS} generated requests honestly, in their API's shape, and leaks nothing`, async () => {
    const seed = Number(process.env.SLUICE_FUZZ_SEED ?? Date.now() % 2 ** 31)
    await fc.assert(fc.asyncProperty(request, send), { numRuns: RUNS, seed, endOnFailure: true })
    console.info(`fuzz seed ${seed}: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`)
    // The run reached past the edge: some answers were served, some refused for each kind of reason.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(RUNS / 20)
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 20)
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0)
  }, 120_000)

  it('the process stayed up and logged no secret', async () => {
    expect(gateway.child.exitCode).toBeNull()
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200)
    const logs = gateway.output()
    for (const secret of SECRETS) expect(logs.includes(secret)).toBe(false)
  })

  it('every request the pipeline answered has exactly one usage record', async () => {
    const db = new Database(join(dir.path, 'usage.db'), { readonly: true })
    try {
      await eventually(() => {
        const rows = db.prepare('SELECT id FROM usage_records').all() as Array<{ id: string }>
        const recorded = new Set(rows.map((row) => row.id))
        expect(rows.length).toBe(recorded.size)
        const missing = [...pipelineIds].filter((id) => !recorded.has(id))
        expect(missing).toEqual([])
      }, 10_000)
    } finally {
      db.close()
    }
  })
})
