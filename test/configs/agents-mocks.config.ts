// The gateway the real coding agents and SDKs (test/agents) talk to: OpenAI and Anthropic providers in front of
// the mock upstreams (URLs from the test through the environment), router aliases for the model ids the agents
// send, and a record hook that keeps every final record where the test can read it.
import { defineGatewayConfig, definePlugin } from 'sluice'
import type { RequestRecord } from 'sluice'
import { responses, router } from 'sluice/plugins'
import { anthropic, openai } from 'sluice/plugins/providers'

/** The records of this process's gateways, read by test/agents/helpers.ts. */
const records: RequestRecord[] = ((globalThis as any).__sluiceAgentRecords ??= [])
/** What each client sent the gateway (body and headers), by record id. */
const inbound: Map<string, { body: unknown; headers: Record<string, string> }> = ((globalThis as any).__sluiceAgentInbound ??= new Map())

const keepRecords = definePlugin(() => ({
  name: 'keep-records',
  hooks: {
    record(record, ctx) {
      inbound.set(record.id, { body: ctx.body, headers: Object.fromEntries(ctx.request.headers) })
      records.push(record)
    },
  },
}))

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  plugins: [
    openai({ apiKey: 'sk-test-openai-upstream', baseURL: process.env.MOCK_OPENAI_URL! }),
    anthropic({ apiKey: 'test-anthropic-key', baseURL: process.env.MOCK_ANTHROPIC_URL! }),
    router({
      models: {
        // Claude Code knows these ids, so it sends its ordinary body (no `role: "system"` messages).
        'claude-sonnet-4-5': 'anthropic/claude-sonnet-4-5',
        'claude-haiku-4-5': 'openai/gpt-4o',
        // An id Claude Code does not know: it then puts `role: "system"` entries inside `messages`.
        'sonnet-via-sluice': 'openai/gpt-4o',
        // Codex: ids it has no metadata for (fallback tools), one per target.
        'codex-openai': 'openai/gpt-5-codex',
        'codex-anthropic': 'anthropic/claude-sonnet-4-5',
        // Gemini's SDK and CLI send Gemini ids.
        'gemini-2.5-flash': 'openai/gpt-4o',
        'gemini-embedding-001': 'openai/text-embedding-3-small',
      },
    }),
    responses(),
    keepRecords(),
  ],
})
