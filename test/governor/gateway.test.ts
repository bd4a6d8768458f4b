/**
 * The governor inside a real in-process gateway (the testing kit's createTestGateway, keys and a scripted
 * provider), with a frozen virtual clock so no bucket refills while a test runs: tool definitions count
 * against token limits, and a request the client abandons gives back what it held.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTestGateway, scriptedProvider, type ScriptedReply, type TestGateway } from '../../testing/index.ts'
import { governor, type GovernorOptions } from '../../plugins/governor/index.ts'
import { keys } from '../../plugins/keys/index.ts'
import { virtualClock } from './helpers.ts'

const KEY = 'sk-test-governor-gateway-0123456789'
let gateway: TestGateway | undefined
afterEach(async () => {
  await gateway?.close()
  gateway = undefined
})

async function start(options: GovernorOptions, replies?: ScriptedReply[] | ((call: number) => ScriptedReply)) {
  const provider = scriptedProvider({ name: 'mock', replies })
  gateway = await createTestGateway(
    { plugins: [provider, keys({ keys: [{ name: 'small', key: KEY, limits: { tpm: 10_000 } }] }), governor(options)] },
    { clock: virtualClock() },
  )
  return { gw: gateway, provider }
}

/**
 * `count` tool definitions of 20 parameters each. One parameter is `p<i>_<j>` (5-6 characters) + "type" 4 +
 * "string" 6 + "description" 11 + an 80-character description: about 107 characters; a tool about 2,200
 * characters, some 550 tokens at 4 characters per token.
 */
function tools(count: number) {
  const description = 'The value of this parameter, as the caller knows it; spelled out in full here.'.padEnd(80, '.')
  return Array.from({ length: count }, (_, i) => ({
    type: 'function',
    function: {
      name: `tool_${i}`,
      description: `Tool number ${i}.`,
      parameters: {
        type: 'object',
        properties: Object.fromEntries(Array.from({ length: 20 }, (_, j) => [`p${i}_${j}`, { type: 'string', description }])),
      },
    },
  }))
}

const bodyWithTools = (toolCount: number) => ({ model: 'mock/model', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], tools: tools(toolCount) })
const authorized = { authorization: `Bearer ${KEY}` }

describe('governor token limits count tool definitions (the issue reproduction)', () => {
  it('20 requests each carrying ~50k tokens of tool definitions do not pass a 10k tpm key: each is too large', async () => {
    const { gw, provider } = await start({})
    const responses = await Promise.all(Array.from({ length: 20 }, () => gw.chat(bodyWithTools(92), authorized)))
    for (const response of responses) {
      expect(response.status).toBe(429)
      const { error } = await response.json()
      expect(error).toMatchObject({ type: 'rate_limit_error', code: 'request_too_large' })
      const estimate = Number(/about (\d+) tokens/.exec(error.message)![1])
      expect(estimate).toBeGreaterThan(50_000)
      expect(error.message).toContain('exceed the limit of 10000 tokens per minute for key cfg.small')
    }
    expect(provider.calls).toHaveLength(0)
  })

  it('20 requests each carrying ~4k tokens of tool definitions: two fit in a 10k tpm key, the rest are rate limited', async () => {
    // The provider bills what the request really was (about its reservation), so settling gives little back.
    const { gw, provider } = await start({}, [{ text: 'ok', usage: { inputTokens: 4_000, outputTokens: 16 } }])
    const responses = await Promise.all(Array.from({ length: 20 }, () => gw.chat(bodyWithTools(7), authorized)))
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(2)
    expect(statuses.filter((s) => s === 429)).toHaveLength(18)
    for (const response of responses.filter((r) => r.status === 429)) {
      expect((await response.json()).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'rate limit exceeded: 10000 tokens per minute for key cfg.small' })
    }
    expect(provider.calls).toHaveLength(2)
  })
})

describe('governor token limits and base64-looking text', () => {
  // KNOWN CORE BUG (left failing on purpose, see the report): core/estimate.ts counts ANY string of 1024+
  // characters without spaces that starts with 64 base64 characters as one 1024-token media payload, wherever it
  // is. In message text such a run is billed as text (~4 characters per token or worse), so a client can send
  // ~50k tokens of base64 text per request and have each estimated at ~1k: 9 of these 20 pass a 10k tpm key.
  it('20 requests each carrying ~50k tokens of base64 text in a message do not pass a 10k tpm key', async () => {
    const { gw, provider } = await start({})
    const text = 'QUJD'.repeat(50_000) // 200,000 characters of base64 text: ~50k tokens at 4 characters per token
    const body = { model: 'mock/model', max_tokens: 16, messages: [{ role: 'system', content: 'Decode what the user sends.' }, { role: 'user', content: text }] }
    const responses = await Promise.all(Array.from({ length: 20 }, () => gw.chat(body, authorized)))
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(429))
    expect(provider.calls).toHaveLength(0)
  })
})

describe('governor settle functions in the gateway', () => {
  it('a request the client aborts gives back its concurrency slot and its tokens', async () => {
    const slowThenQuick = (call: number): ScriptedReply => (call === 1 ? { text: 'never sent', delayMs: 600_000 } : { text: 'ok', usage: { inputTokens: 0, outputTokens: 0 } })
    const { gw, provider } = await start({ rules: [{ scope: 'global', maxConcurrent: 1, tpm: 1_000 }] }, slowThenQuick)
    const body = { model: 'mock/model', max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] }
    // {"model":"mock/model","max_tokens":100,"messages":[{"role":"user","content":"hello"}]}: model 5 +
    // mock/model 10 + max_tokens 10 + messages 8 + role 4 + user 4 + content 7 + hello 5 = 53 characters, 14
    // tokens, plus max_tokens 100.
    const reservation = 114

    const client = new AbortController()
    const abandoned = gw.fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...authorized }, body: JSON.stringify(body), signal: client.signal,
    })
    await vi.waitFor(() => expect(provider.calls).toHaveLength(1)) // admitted, and waiting on the upstream
    const whileHeld = await gw.chat(body, authorized)
    expect(whileHeld.status).toBe(429)
    expect((await whileHeld.json()).error.message).toMatch(/^concurrency limit exceeded: 1 /)

    client.abort()
    expect((await abandoned).status).toBe(499)
    const [abortedRecord] = await gw.waitForRecords(2).then((records) => records.filter((r) => r.outcome === 'client_abort'))
    expect(abortedRecord).toBeDefined()

    const after = await gw.chat(body, authorized)
    expect(after.status).toBe(200)
    // Only this request's reservation is out: the abandoned one's came back in full (it used nothing).
    expect(after.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1_000 - reservation))
  })
})
