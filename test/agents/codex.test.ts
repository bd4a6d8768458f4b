/**
 * Codex CLI (the real `codex` binary, `codex exec`) through the gateway's Responses API: a custom provider with
 * `wire_api = "responses"` completes a tool task — the upstream answers an `exec_command` function call, Codex
 * runs it (creating a file), the second turn answers with text — onto an OpenAI target (the mock's own
 * /v1/responses, passed through) and onto an Anthropic target (translated, with Codex's `namespace` tool
 * flattened). With a model id Codex has metadata for (`gpt-5.5`) it offers `apply_patch` as a freeform `custom`
 * tool: the Anthropic upstream calls it as a function of one string `input`, and Codex applies the patch.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT_TIMEOUT, CODEX_JS, type CodexExtra, describeRun, runCodex, skipMessage, startStack, tempDir, type Stack } from './helpers.ts'

const skip = skipMessage('codex', CODEX_JS ? [] : ['@openai/codex'])

/**
 * Codex's config for a gateway in front of a provider other than OpenAI's Responses API. With a model id it has
 * no metadata for, Codex 0.171 offers `{"type":"web_search"}` (hosted) and `{"type":"namespace","name":
 * "multi_agent_v1"}` beside its function tools. The gateway translates the namespace (its members become
 * `multi_agent_v1__<name>` functions) and refuses the hosted tool (400 naming it): `web_search = "disabled"`
 * drops it (`[tools] web_search = false` does not, in 0.171).
 */
export const PORTABLE_TOOLS: CodexExtra = { top: 'web_search = "disabled"' }

/**
 * For `gpt-5.5` Codex also offers `{"type":"tool_search","execution":"client"}` (search over deferred tools),
 * which the gateway refuses too; in 0.171 the `multi_agent` feature flag is what turns it off.
 */
export const PORTABLE_TOOLS_GPT55: CodexExtra = { top: 'web_search = "disabled"', features: 'multi_agent = false' }

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

  async function execTask(model: string, extraConfig?: CodexExtra, prompt: (file: string, content: string) => string = execPrompt) {
    const dir = tempDir('codex')
    const work = join(dir.path, 'work')
    mkdirSync(work, { recursive: true })
    const file = join(work, 'greeting.txt')
    const content = `hello from codex through sluice (${model})`
    stack.clearRecords()
    try {
      const run = await runCodex({ baseURL: stack.gateway.url, model, prompt: prompt(file, content), cwd: work, home: dir.path, extraConfig })
      return { run, file, content, written: existsSync(file) ? readFileSync(file, 'utf8') : undefined }
    } finally {
      dir.remove()
    }
  }

  function expectToolTask(task: Awaited<ReturnType<typeof execTask>>, upstream: Array<{ path: string; body: any }>, provider: string, toolItem = 'command_execution') {
    const { run } = task
    const records = stack.records()
    const context = describeRun(run, {
      upstream: upstream.map((r) => ({ path: r.path, stream: r.body?.stream, model: r.body?.model })),
      records: records.map((r) => [r.status, r.provider, r.outcome, r.errorMessage]),
    })
    expect(run.code, context).toBe(0)
    expect(task.written, context).toBe(task.content)
    const tools = run.events.filter((e) => e.type === 'item.completed' && e.item?.type === toolItem)
    expect(tools.length, context).toBe(1)
    if (toolItem === 'command_execution') expect(tools[0].item.exit_code, context).toBe(0)
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

  // Codex's stock config: its hosted web_search tool and namespace tool pass through to OpenAI untouched.
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

  it('runs exec_command onto an Anthropic target (translated) with only web search off: the multi_agent namespace is flattened', async () => {
    const before = stack.anthropic.requests.length
    const task = await execTask('codex-anthropic', PORTABLE_TOOLS)
    const upstream = stack.anthropic.requests.slice(before)
    const answer = expectToolTask(task, upstream, 'anthropic')
    expect(answer).toContain('The tool said:')
    const tools = upstream[0]!.body.tools
    const names = tools.map((t: any) => t.name)
    expect(names).toContain('exec_command')
    expect(names).toEqual(expect.arrayContaining(['multi_agent_v1__spawn_agent', 'multi_agent_v1__send_input', 'multi_agent_v1__wait_agent', 'multi_agent_v1__close_agent']))
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/)
    expect(tools.find((t: any) => t.name === 'multi_agent_v1__close_agent').description).toMatch(/^multi_agent_v1: Tools for spawning and managing sub-agents\.\n\nClose an agent/)
    expect(upstream[1]!.body.messages.at(-1).content[0].type).toBe('tool_result')
  }, AGENT_TIMEOUT)

  it('the stock config onto an Anthropic target: the hosted web_search tool is refused with a 400 naming it and the setting that drops it', async () => {
    const before = stack.anthropic.requests.length
    const task = await execTask('codex-anthropic', undefined, () => 'Say hello.')
    expect(task.run.code, describeRun(task.run)).not.toBe(0)
    // The message arrives as JSON inside a JSON event line: its quotes escaped twice.
    expect(task.run.stdout + task.run.stderr).toMatch(/the hosted tool 'web_search' runs on OpenAI's servers .*send the request without it \(Codex: web_search = [\\"]+disabled[\\"]+ in config\.toml\)/)
    expect(stack.anthropic.requests.length).toBe(before)
  }, AGENT_TIMEOUT)

  it('a call to a flattened namespace member reaches Codex as that namespace\'s function (multi_agent_v1 close_agent)', async () => {
    const before = stack.anthropic.requests.length
    const call = JSON.stringify({ target: 'no-such-agent' })
    const task = await execTask('codex-anthropic', PORTABLE_TOOLS, () => `Close the helper agent.\nMOCK_CALL multi_agent_v1__close_agent ${call}`)
    const upstream = stack.anthropic.requests.slice(before)
    const context = describeRun(task.run, { upstream: upstream.map((r) => r.body?.messages?.at(-1)) })
    expect(task.run.code, context).toBe(0)
    expect(upstream.length, context).toBe(2)
    // Codex ran its close_agent handler (0.171: "invalid agent id no-such-agent: …") and replays the call, under the
    // flattened name again. A function_call without its namespace gets "unsupported call: close_agent" instead.
    const [assistant, results] = upstream[1]!.body.messages.slice(-2)
    expect(assistant.content.find((b: any) => b.type === 'tool_use'), context).toMatchObject({ name: 'multi_agent_v1__close_agent', input: { target: 'no-such-agent' } })
    const result = JSON.stringify(results.content[0].content)
    expect(result, context).not.toMatch(/unsupported call/i)
    expect(result, context).toMatch(/no-such-agent/)
  }, AGENT_TIMEOUT)

  it('gpt-5.5 with multi_agent on: its tool_search tool is refused with a 400 that names it and the setting that drops it', async () => {
    const before = stack.anthropic.requests.length
    const task = await execTask('anthropic/gpt-5.5', PORTABLE_TOOLS, () => 'Say hello.')
    const output = task.run.stdout + task.run.stderr
    expect(task.run.code, describeRun(task.run)).not.toBe(0)
    expect(output).toMatch(/'tool_search' has no equivalent on other providers .*send the request without it \(Codex: multi_agent = false under \[features\]/)
    expect(stack.anthropic.requests.length).toBe(before)
    expect(stack.records().map((r) => r.status)).toEqual([400])
  }, AGENT_TIMEOUT)

  it('applies a patch with the freeform apply_patch tool onto an Anthropic target (model gpt-5.5)', async () => {
    const before = stack.anthropic.requests.length
    const patchPrompt = (file: string, content: string) => {
      const input = `*** Begin Patch\n*** Add File: ${file}\n+${content}\n*** End Patch\n`
      return `Create the file ${file} with a greeting.\nMOCK_CALL apply_patch ${JSON.stringify({ input })}`
    }
    // `anthropic/gpt-5.5`: the provider prefix routes it; Codex still reads the id as gpt-5.5 (its metadata, its tools).
    const task = await execTask('anthropic/gpt-5.5', PORTABLE_TOOLS_GPT55, patchPrompt)
    const upstream = stack.anthropic.requests.slice(before)
    task.content += '\n' // an added file's lines end with a newline
    const answer = expectToolTask(task, upstream, 'anthropic', 'file_change')
    expect(answer).toContain('The tool said:')
    const inbound = stack.records().map((r) => stack.inbound(r)?.body)
    expect(inbound[0].tools.find((t: any) => t.name === 'apply_patch'), 'Codex offers apply_patch as a custom tool').toMatchObject({ type: 'custom', format: { type: 'grammar' } })
    const tool = upstream[0]!.body.tools.find((t: any) => t.name === 'apply_patch')
    expect(tool.input_schema).toMatchObject({ properties: { input: { type: 'string' } }, required: ['input'] })
    expect(tool.description).toContain('start: begin_patch hunk+ end_patch')
    // Turn 2: Codex sends custom_tool_call + custom_tool_call_output, which reach Anthropic as tool_use + tool_result.
    expect(inbound[1].input.map((item: any) => item.type)).toEqual(expect.arrayContaining(['custom_tool_call', 'custom_tool_call_output']))
    const [assistant, results] = upstream[1]!.body.messages.slice(-2)
    expect(assistant.content.find((b: any) => b.type === 'tool_use')).toMatchObject({ name: 'apply_patch', input: { input: expect.stringContaining('*** Add File:') } })
    expect(JSON.stringify(results.content[0].content)).toMatch(/Success|A .*greeting\.txt/)
  }, AGENT_TIMEOUT)
})
