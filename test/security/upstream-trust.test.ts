/**
 * What an upstream says is not trusted blindly, and the gateway's own failures are never blamed on it: an
 * echoed provider key is scrubbed before it reaches the client or the record, a provider refusing the gateway's
 * credentials is a 502 that says so, a redirect is a 502, and a bug in the gateway is a 500 that no retry or
 * breaker counts against the upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin, type RequestRecord, type RunningServer } from '../../core/index.ts'
import { breaker, retry, router } from '../../plugins/index.ts'
import { echo, openaiCompatible } from '../../plugins/providers/index.ts'
import { rawUpstream, serve } from './serve.ts'

const PROVIDER_KEY = 'sk-upstream-secret-0123456789abcdef'

let upstream: Awaited<ReturnType<typeof rawUpstream>>
let gateway: RunningServer
const records: RequestRecord[] = []
let upstreamCalls = 0

const collect = definePlugin(() => ({ name: 'collect', hooks: { record: (record: RequestRecord) => void records.push(record) } }))

// A provider with a bug: it throws a TypeError on every call.
const buggy = definePlugin(() => ({
  name: 'buggy',
  setup(gw) {
    gw.registerProvider({ name: 'buggy', formats: ['openai-chat'], call: () => { throw new TypeError('cannot read properties of undefined') } })
  },
}))

beforeAll(async () => {
  // The upstream's behaviour is chosen by the last user message.
  upstream = await rawUpstream((req, res, body) => {
    upstreamCalls++
    const text = JSON.parse(body).messages.at(-1).content as string
    const json = (status: number, payload: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload))
    if (text === 'echo-auth') return json(400, { error: { message: `bad request from ${req.headers.authorization}`, type: 'invalid_request_error' } })
    if (text === 'refuse-key') return json(401, { error: { message: `Incorrect API key provided: ${PROVIDER_KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } })
    if (text === 'forbid') return json(403, { error: { message: 'Your organization is not allowed', type: 'permission_error' } })
    if (text === 'redirect') return res.writeHead(302, { location: 'http://169.254.169.254/' }).end()
    return json(200, { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
  })
  gateway = await serve({
    plugins: [
      openaiCompatible({ name: 'up', baseURL: upstream.url, apiKey: PROVIDER_KEY }),
      echo(), buggy(),
      // `unserialisable`: the gateway itself cannot serialise the upstream body (a BigInt param), inside the upstream client.
      router({ models: { flaky: ['buggy/m', 'echo/e'], unserialisable: { targets: [{ model: 'up/m', params: { seed: 10n } }, 'echo/e'] } } }),
      retry({ attempts: 3, baseMs: 1, maxMs: 2 }),
      breaker({ minRequests: 2, failureRatio: 0.5 }),
      collect(),
    ],
  })
})
afterAll(async () => {
  await gateway?.close()
  await upstream?.close()
})

const chat = (model: string, content: string) =>
  fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content }] }) })

async function recordOf(response: Response): Promise<RequestRecord> {
  const id = response.headers.get('x-request-id')
  for (let i = 0; i < 200 && !records.some((r) => r.id === id); i++) await new Promise((r) => setTimeout(r, 5))
  return records.find((r) => r.id === id)!
}

describe('upstream answers', () => {
  it('(the upstream answers what it is asked)', async () => {
    expect((await chat('up/m', 'hello')).status).toBe(200)
  })

  it('an upstream that echoes the gateway\'s Authorization header has the key scrubbed, in the answer and the record', async () => {
    const response = await chat('up/m', 'echo-auth')
    const text = await response.text()
    expect(response.status).toBe(400)
    expect(text).not.toContain(PROVIDER_KEY)
    expect(text).toContain('[redacted]')
    expect((await recordOf(response)).errorMessage).not.toContain(PROVIDER_KEY)
  })

  it('a provider refusing the gateway\'s credentials (401, 403) is a 502 that says so, never the client\'s own 401', async () => {
    for (const word of ['refuse-key', 'forbid']) {
      const response = await chat('up/m', word)
      const body = await response.json()
      expect(response.status).toBe(502)
      expect(body.error.code).toBe('upstream_auth_failed')
      expect(body.error.message).toMatch(/refused the gateway's credentials/)
      expect(JSON.stringify(body)).not.toContain(PROVIDER_KEY)
    }
  })

  it('a redirect is a 502, not an empty 200, and is recorded as a failure', async () => {
    const response = await chat('up/m', 'redirect')
    expect(response.status).toBe(502)
    expect((await response.json()).error.code).toBe('upstream_redirect')
    expect((await recordOf(response)).status).toBe(502)
  })
})

describe('the gateway\'s own failures', () => {
  it('a bug is a 500 that is not retried, not counted by the breaker, and does not fall back', async () => {
    const callsBefore = upstreamCalls
    for (let i = 0; i < 6; i++) {
      const response = await chat(i % 2 ? 'flaky' : 'unserialisable', 'hi')
      expect(response.status).toBe(500)
      expect(response.headers.get('x-sluice-attempts')).toBe('1')
      expect((await response.json()).error.message).toBe('internal gateway error')
    }
    // The breaker never opened: both targets are still tried (and fail the same way), none is skipped as open.
    for (const alias of ['flaky', 'unserialisable']) {
      const response = await chat(alias, 'hi')
      expect(response.status).toBe(500)
      expect((await response.json()).error.code).not.toBe('circuit_open')
    }
    expect(upstreamCalls).toBe(callsBefore) // the unserialisable body never left the gateway
  })
})
