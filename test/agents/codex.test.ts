/**
 * Codex CLI (the real `codex` binary, `codex exec`) through the gateway's Responses API: a custom provider with
 * `wire_api = "responses"` completes a tool task — the upstream answers an `exec_command` function call, Codex
 * runs it (creating a file), the second turn answers with text — onto an OpenAI target (the mock's own
 * /v1/responses, passed through) and onto an Anthropic target (translated).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT_TIMEOUT, CODEX_JS, type CodexExtra, describeRun, runCodex, skipMessage, startStack, tempDir, type Stack } from './helpers.ts'

const skip = skipMessage('codex', CODEX_JS ? [] : ['@openai/codex'])

/**
 * Codex's config for a gateway in front of a provider other than OpenAI's Responses API. With a model id it has
 * no metadata for, Codex 0.171 offers `{"type":"web_search"}` (hosted) and `{"type":"namespace","name":
 * "multi_agent_v1"}` beside its function tools; the gateway refuses both when it translates (400 naming the tool).
 * `web_search = "disabled"` drops the first (`[tools] web_search = false` does not, in 0.171), the
 * `multi_agent` feature flag the second. Both are needed.
 */
export const PORTABLE_TOOLS: CodexExtra = { top: 'web_search = "disabled"', features: 'multi_agent = false' }

function execPrompt(file: string, content: string): string {
  const args = JSON.stringify({ cmd: `printf '%s' '${content}' > ${file}` })
  return `Create the file ${file} with a greeting.\nMOCK_CALL exec_command ${args}\n[call exec_command ${args}]`
}

describe.skipIf(skip)('Codex exec through Sluice', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.close()
  })

  async function execTask(model: string, extraConfig?: CodexExtra) {
    const dir = tempDir('codex')
    const work = join(dir.path, 'work')
    mkdirSync(work, { recursive: true })
    const file = join(work, 'greeting.txt')
    const content = `hello from codex through sluice (${model})`
    stack.clearRecords()
    try {
      const run = await runCodex({ baseURL: stack.gateway.url, model, prompt: execPrompt(file, content), cwd: work, home: dir.path, extraConfig })
      return { run, file, content, written: existsSync(file) ? readFileSync(file, 'utf8') : undefined }
    } finally {
      dir.remove()
    }
  }

  function expectToolTask(task: Awaited<ReturnType<typeof execTask>>, upstream: Array<{ path: string; body: any }>, provider: string) {
    const { run } = task
    const records = stack.records()
    const context = describeRun(run, {
      upstream: upstream.map((r) => ({ path: r.path, stream: r.body?.stream, model: r.body?.model })),
      records: records.map((r) => [r.status, r.provider, r.outcome, r.errorMessage]),
    })
    expect(run.code, context).toBe(0)
    expect(task.written, context).toBe(task.content)
    const commands = run.events.filter((e) => e.type === 'item.completed' && e.item?.type === 'command_execution')
    expect(commands.map((e) => e.item.exit_code), context).toEqual([0])
    const message = run.events.findLast((e) => e.type === 'item.completed' && e.item?.type === 'agent_message')
    expect(message?.item?.text, context).toMatch(/\S/)
    expect(run.events.some((e) => e.type === 'turn.completed'), context).toBe(true)
    expect(upstream.length, context).toBe(2)
    for (const request of upstream) expect(request.body.stream, context).toBe(true)
    expect(records.map((r) => [r.api, r.status, r.provider, r.stream, r.outcome]), context).toEqual([
      ['openai-responses', 200, provider, true, 'ok'],
      ['openai-responses', 200, provider, true, 'ok'],
    ])
    return message.item.text as string
  }

  // FAILS on this branch (gateway gap, left failing on purpose): the `openai()` provider speaks only chat
  // completions and embeddings (plugins/providers/openai-compatible/index.ts:30, `formats`; `route` knows no
  // /responses), so a Responses request onto OpenAI is translated to chat instead of passed through, and the
  // translation refuses Codex's stock tools: 400 "tools[4]: the hosted tool 'namespace' runs on OpenAI's servers
  // and cannot be translated to this provider" (core/formats/openai-responses.ts:237). Nothing reaches the mock.
  it('runs exec_command onto an OpenAI target (the upstream\'s /v1/responses, passthrough)', async () => {
    const before = stack.openai.requests.length
    const task = await execTask('codex-openai')
    const upstream = stack.openai.requests.slice(before)
    const answer = expectToolTask(task, upstream, 'openai')
    expect(answer).toContain('Tool exec_command returned')
    expect(upstream.map((r) => r.path)).toEqual(['/v1/responses', '/v1/responses'])
    expect(upstream[0]!.body.model).toBe('gpt-5-codex')
    // Passed through: the second turn replays the function call and its output as Codex sent them.
    const items = upstream[1]!.body.input.map((item: any) => item.type ?? item.role)
    expect(items).toContain('function_call')
    expect(items).toContain('function_call_output')
  }, AGENT_TIMEOUT)

  it('runs exec_command onto an OpenAI target with hosted tools off in its config (whatever the OpenAI API used upstream)', async () => {
    const before = stack.openai.requests.length
    const task = await execTask('codex-openai', PORTABLE_TOOLS)
    const upstream = stack.openai.requests.slice(before)
    const answer = expectToolTask(task, upstream, 'openai')
    expect(answer).toContain('Tool exec_command returned')
  }, AGENT_TIMEOUT)

  it('runs exec_command onto an Anthropic target (translated), with hosted tools off in its config', async () => {
    const before = stack.anthropic.requests.length
    const task = await execTask('codex-anthropic', PORTABLE_TOOLS)
    const upstream = stack.anthropic.requests.slice(before)
    const answer = expectToolTask(task, upstream, 'anthropic')
    expect(answer).toContain('The tool said:')
    expect(upstream[0]!.body.tools.map((t: any) => t.name)).toContain('exec_command')
    expect(upstream[1]!.body.messages.at(-1).content[0].type).toBe('tool_result')
  }, AGENT_TIMEOUT)
})
