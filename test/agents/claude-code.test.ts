/**
 * Claude Code (the real `claude` binary, headless) through the gateway: a default session with its tools on
 * completes a tool task — the upstream answers a `Write` tool_use, Claude Code writes the file, the second turn
 * answers with text — onto an Anthropic target (same format, passed through) and onto an OpenAI target
 * (translated to chat completions); once more with a model id Claude Code does not know (a router alias), which
 * makes it send `role: "system"` entries inside `messages`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT_TIMEOUT, CLAUDE_BIN, describeRun, runClaude, skipMessage, startStack, tempDir, type Stack } from './helpers.ts'

const skip = skipMessage('claude-code', CLAUDE_BIN ? [] : ['@anthropic-ai/claude-code'])

/** One prompt for both mocks: the Anthropic mock reads `MOCK_CALL`, the OpenAI mock `[call …]` (one per line). */
function writePrompt(file: string, content: string): string {
  const input = JSON.stringify({ file_path: file, content })
  return `Create the file ${file} with a greeting.\nMOCK_CALL Write ${input}\n[call Write ${input}]`
}

describe.skipIf(skip)('Claude Code headless through Sluice', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.close()
  })

  async function writeTask(model: string) {
    const dir = tempDir('claude')
    const work = join(dir.path, 'work')
    const file = join(work, 'greeting.txt')
    const content = `hello from claude through sluice (${model})\n`
    mkdirSync(work, { recursive: true })
    stack.clearRecords()
    try {
      const run = await runClaude({ baseURL: stack.gateway.url, model, prompt: writePrompt(file, content), cwd: work, home: dir.path })
      return { run, file, content, written: existsSync(file) ? readFileSync(file, 'utf8') : undefined }
    } finally {
      dir.remove()
    }
  }

  function expectToolTask(task: Awaited<ReturnType<typeof writeTask>>, upstream: Array<{ path: string; body: any }>, provider: string) {
    const { run } = task
    const context = describeRun(run, upstream.map((r) => ({ path: r.path, stream: r.body?.stream, model: r.body?.model })))
    expect(run.code, context).toBe(0)
    expect(task.written, context).toBe(task.content)
    expect(run.result?.subtype, context).toBe('success')
    expect(run.result?.is_error, context).toBe(false)
    expect(run.result?.permission_denials, context).toEqual([])
    expect(run.result?.num_turns, context).toBe(2)
    expect(run.result?.result, context).toMatch(/\S/)
    // Two model turns, both streamed: Claude Code falls back to non-streaming requests when a stream is broken.
    const turns = upstream.filter((r) => /\/(messages|chat\/completions)(\?|$)/.test(r.path))
    expect(turns.length, context).toBe(2)
    for (const request of turns) expect(request.body.stream, context).toBe(true)
    const records = stack.records().filter((r) => r.api === 'anthropic-messages')
    expect(records.map((r) => [r.status, r.provider, r.stream, r.outcome]), context).toEqual([[200, provider, true, 'ok'], [200, provider, true, 'ok']])
    for (const record of records) expect(record.usage.inputTokens + record.usage.outputTokens).toBeGreaterThan(0)
  }

  it('writes a file with the Write tool onto an Anthropic target (passthrough)', async () => {
    const before = stack.anthropic.requests.length
    const task = await writeTask('claude-sonnet-4-5')
    const upstream = stack.anthropic.requests.slice(before)
    expectToolTask(task, upstream, 'anthropic')
    expect(task.run.result.result).toContain('The tool said: File created successfully')
    // Passed through: Claude Code's own betas and tools reach Anthropic.
    expect(upstream[0]!.headers['anthropic-beta']).toContain('claude-code-20250219')
    expect(upstream[0]!.body.tools.map((t: any) => t.name)).toContain('Write')
    expect(upstream[1]!.body.messages.at(-1).content[0].type).toBe('tool_result')
  }, AGENT_TIMEOUT)

  it('writes a file with the Write tool onto an OpenAI target (translated to chat completions)', async () => {
    const before = stack.openai.requests.length
    const task = await writeTask('claude-haiku-4-5')
    const upstream = stack.openai.requests.slice(before)
    expectToolTask(task, upstream, 'openai')
    expect(task.run.result.result).toContain('Tool Write returned: File created successfully')
    expect(upstream[0]!.path).toBe('/v1/chat/completions')
    expect(upstream[0]!.body.model).toBe('gpt-4o')
    expect(upstream[0]!.body.tools.map((t: any) => t.function.name)).toContain('Write')
    const second = upstream[1]!.body.messages
    expect(second.some((m: any) => m.role === 'assistant' && m.tool_calls?.[0]?.function?.name === 'Write')).toBe(true)
    expect(second.some((m: any) => m.role === 'tool')).toBe(true)
  }, AGENT_TIMEOUT)

  it('an unknown model id (router alias): role "system" messages translated onto an OpenAI target', async () => {
    const before = stack.openai.requests.length
    const task = await writeTask('sonnet-via-sluice')
    const upstream = stack.openai.requests.slice(before)
    expectToolTask(task, upstream, 'openai')
    // What makes this case: Claude Code sent `role: "system"` entries among its messages (after the first user
    // turn); upstream they became system text and the conversation stayed valid chat.
    const sent = stack.records().map((record) => stack.inbound(record)?.body.messages.map((m: any) => m.role))
    expect(sent.every((roles) => roles?.includes('system')), JSON.stringify(sent)).toBe(true)
    for (const request of upstream) {
      const roles = request.body.messages.map((m: any) => m.role)
      expect(roles[0]).toBe('system')
      expect(roles.includes('user')).toBe(true)
    }
  }, AGENT_TIMEOUT)
})
