/**
 * Claude Code's `/context` calls `POST /v1/messages/count_tokens?beta=true`. The Anthropic SDK's
 * `beta.messages.countTokens` makes the same request: onto an Anthropic target it is passed through to the
 * provider's own counter; onto an OpenAI target the gateway estimates it (`x-sluice-token-count: estimated`).
 * The SDK is the root's dev dependency: this suite needs no agents install.
 */
import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from './helpers.ts'

const REQUEST = {
  system: [{ type: 'text' as const, text: 'You are a Claude agent.' }],
  messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'How many tokens is this conversation so far?' }] }],
  tools: [{ name: 'Write', description: 'Write a file', input_schema: { type: 'object' as const, properties: { file_path: { type: 'string' }, content: { type: 'string' } }, required: ['file_path', 'content'] } }],
  betas: ['claude-code-20250219'],
}

/** Claude Code adds `?beta=true` to its Messages paths. */
const CLAUDE_CODE = { query: { beta: 'true' } }

describe('count_tokens through Sluice (Anthropic SDK)', () => {
  let stack: Stack
  let client: Anthropic
  beforeAll(async () => {
    stack = await startStack()
    client = new Anthropic({ baseURL: stack.gateway.url, apiKey: 'sk-client-key-for-sluice', maxRetries: 0 })
  })
  afterAll(async () => {
    await stack?.close()
  })

  it('onto an Anthropic target: passed through to the provider\'s counter', async () => {
    const before = stack.anthropic.requests.length
    const { data, response } = await client.beta.messages.countTokens({ model: 'claude-sonnet-4-5', ...REQUEST }, CLAUDE_CODE).withResponse()
    const upstream = stack.anthropic.requests.slice(before)
    expect(upstream.map((r) => r.path)).toEqual(['/v1/messages/count_tokens'])
    expect(upstream[0]!.headers['anthropic-beta']).toContain('claude-code-20250219')
    expect(upstream[0]!.body).toMatchObject({ model: 'claude-sonnet-4-5', messages: REQUEST.messages })
    // The mock's count: a quarter of the characters of system, messages and tools.
    const body = upstream[0]!.body
    expect(data.input_tokens).toBe(Math.ceil(JSON.stringify([body.system, body.messages, body.tools]).length / 4))
    expect(response.headers.get('x-sluice-token-count')).toBe('provider')
    expect(response.url).toContain('/v1/messages/count_tokens?beta=true')
  })

  it('onto an OpenAI target: estimated by the gateway, nothing sent upstream', async () => {
    const before = stack.openai.requests.length
    const { data, response } = await client.beta.messages.countTokens({ model: 'claude-haiku-4-5', ...REQUEST }, CLAUDE_CODE).withResponse()
    expect(response.status).toBe(200)
    expect(response.headers.get('x-sluice-token-count')).toBe('estimated')
    expect(data.input_tokens).toBeGreaterThan(10)
    expect(stack.openai.requests.length).toBe(before)
  })

  it('with Claude Code\'s role "system" entries among the messages (an unknown model id), onto OpenAI', async () => {
    const messages: any[] = [...REQUEST.messages, { role: 'system', content: [{ type: 'text', text: '# Environment\nYou are in /tmp.' }] }]
    const { data, response } = await client.beta.messages.countTokens({ model: 'sonnet-via-sluice', ...REQUEST, messages }, CLAUDE_CODE).withResponse()
    expect(response.headers.get('x-sluice-token-count')).toBe('estimated')
    expect(data.input_tokens).toBeGreaterThan(10)
  })
})
