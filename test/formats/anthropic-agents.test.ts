/**
 * Claude Code (and other agents speaking Anthropic Messages) translated onto OpenAI chat and Gemini, OpenAI
 * clients onto Anthropic, and the output-token limit helpers.
 */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../core/errors.ts'
import { clampOutputTokens, requestedOutputTokens, translateRequest, type CanonicalRequest, type WireFormat } from '../../core/formats/index.ts'
import { anthropicRequestToCanonical, canonicalToAnthropicRequest } from '../../core/formats/anthropic-messages.ts'

function rejects(fn: () => unknown, pattern: RegExp) {
  try {
    fn()
  } catch (error) {
    expect(GatewayError.is(error)).toBe(true)
    expect((error as GatewayError).status).toBe(400)
    expect((error as GatewayError).message).toMatch(pattern)
    return
  }
  throw new Error('expected a GatewayError')
}

const EPHEMERAL = { type: 'ephemeral' } as const

const BUILTIN_TOOLS = [
  'Task', 'Bash', 'Glob', 'Grep', 'ExitPlanMode', 'Read', 'Edit', 'Write', 'NotebookEdit', 'WebFetch', 'TodoWrite',
  'WebSearch', 'BashOutput', 'KillShell', 'Skill', 'SlashCommand',
]

/** 34 client tools as Claude Code lists them: built-ins, then MCP tools; the last one marks a cache breakpoint. */
function claudeCodeTools() {
  const names = [...BUILTIN_TOOLS, ...Array.from({ length: 18 }, (_, k) => `mcp__github__tool_${k}`)]
  return names.map((name, k) => ({
    name,
    description: `The ${name} tool.`,
    input_schema: { type: 'object', properties: { arg: { type: 'string' } }, required: ['arg'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' },
    ...(k === names.length - 1 ? { cache_control: EPHEMERAL } : {}),
  }))
}

const READ_SIGNATURE = 'EqMBCkYIBxgCKkBsigRead'
const BASH_SIGNATURE = 'EqMBCkYIBxgCKkBsigBash'
const REDACTED = 'EmwKAhgBEgy3va3pzixRedacted'

/** What Claude Code 2.1 sends mid tool loop: cached system blocks, a system entry among the turns, signed thinking. */
function claudeCodeRequest(): Record<string, any> {
  return {
    model: 'claude-sonnet-5',
    max_tokens: 64000,
    system: [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.154; cc_entrypoint=cli' },
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: EPHEMERAL },
      { type: 'text', text: 'You are an interactive CLI tool that helps users with software engineering tasks.', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<system-reminder>As you answer, use the context below.</system-reminder>' },
          { type: 'text', text: 'Fix the failing test in src/sum.ts', cache_control: EPHEMERAL },
        ],
      },
      {
        role: 'system',
        content: [
          { type: 'text', text: 'Available agents: general-purpose, Explore, Plan.' },
          { type: 'text', text: 'Available skills: pdf, xlsx.', cache_control: EPHEMERAL },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Read the test first.', signature: READ_SIGNATURE },
          { type: 'redacted_thinking', data: REDACTED },
          { type: 'text', text: 'Let me read the test.' },
          { type: 'tool_use', id: 'toolu_01Read', name: 'Read', input: { file_path: '/repo/src/sum.test.ts' } },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_01Read', content: [{ type: 'text', text: 'expect(sum(1, 2)).toBe(3)' }], cache_control: EPHEMERAL }],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Run the tests.', signature: BASH_SIGNATURE },
          { type: 'tool_use', id: 'toolu_02Bash', name: 'Bash', input: { command: 'npm test' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_02Bash', content: 'FAIL src/sum.test.ts', is_error: true }] },
    ],
    tools: claudeCodeTools(),
    thinking: { type: 'adaptive' },
    output_config: { effort: 'high' },
    metadata: { user_id: 'user_4f2a_account_91c3_session_7d1e' },
    stream: true,
  }
}

const toOpenAI = (body: Record<string, unknown>) => translateRequest(body, 'anthropic-messages', 'openai-chat') as any
const toGemini = (body: Record<string, unknown>) => translateRequest(body, 'anthropic-messages', 'gemini') as any
const openaiToAnthropic = (body: Record<string, unknown>) => translateRequest(body, 'openai-chat', 'anthropic-messages') as any

describe('Claude Code -> OpenAI chat', () => {
  const out = toOpenAI(claudeCodeRequest())

  it('puts the system blocks, then the system entry, first; the turns keep their order without it', () => {
    expect(out.messages.slice(0, 5)).toEqual([
      { role: 'system', content: 'x-anthropic-billing-header: cc_version=2.1.154; cc_entrypoint=cli' },
      { role: 'system', content: "You are Claude Code, Anthropic's official CLI for Claude." },
      { role: 'system', content: 'You are an interactive CLI tool that helps users with software engineering tasks.' },
      { role: 'system', content: 'Available agents: general-purpose, Explore, Plan.' },
      { role: 'system', content: 'Available skills: pdf, xlsx.' },
    ])
    expect(out.messages.slice(5).map((m: any) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool'])
  })

  it('carries the tool loop without thinking; an error result keeps its text', () => {
    const [user, read, readResult, bash, bashResult] = out.messages.slice(5)
    expect(user).toEqual({ role: 'user', content: [
      { type: 'text', text: '<system-reminder>As you answer, use the context below.</system-reminder>' },
      { type: 'text', text: 'Fix the failing test in src/sum.ts' },
    ] })
    expect(read).toEqual({
      role: 'assistant', content: 'Let me read the test.',
      tool_calls: [{ type: 'function', id: 'toolu_01Read', function: { name: 'Read', arguments: '{"file_path":"/repo/src/sum.test.ts"}' } }],
    })
    expect(readResult).toEqual({ role: 'tool', tool_call_id: 'toolu_01Read', content: 'expect(sum(1, 2)).toBe(3)' })
    expect(bash).toEqual({ role: 'assistant', content: null, tool_calls: [{ type: 'function', id: 'toolu_02Bash', function: { name: 'Bash', arguments: '{"command":"npm test"}' } }] })
    expect(bashResult).toEqual({ role: 'tool', tool_call_id: 'toolu_02Bash', content: 'FAIL src/sum.test.ts' })
    const text = JSON.stringify(out)
    for (const gone of [READ_SIGNATURE, REDACTED, 'Read the test first.', 'reasoning_content', 'thinking']) expect(text).not.toContain(gone)
  })

  it('maps adaptive thinking + effort, the 64000 cap, the user and the tools; drops cache_control and Anthropic-only fields', () => {
    expect(out).toMatchObject({ model: 'claude-sonnet-5', reasoning_effort: 'high', max_completion_tokens: 64000, user: 'user_4f2a_account_91c3_session_7d1e', stream: true })
    expect(out.tools).toHaveLength(34)
    expect(out.tools[0]).toEqual({ type: 'function', function: { name: 'Task', description: 'The Task tool.', parameters: claudeCodeTools()[0]!.input_schema } })
    expect(out.tools[33].function.name).toBe('mcp__github__tool_17')
    for (const absent of ['max_tokens', 'temperature', 'thinking', 'output_config', 'metadata', 'parallel_tool_calls', 'tool_choice']) expect(out).not.toHaveProperty(absent)
    expect(JSON.stringify(out)).not.toContain('cache_control')
  })

  it('maps each reasoning control onto reasoning_effort', () => {
    const effortOf = (fields: Record<string, unknown>) => toOpenAI({ ...claudeCodeRequest(), thinking: undefined, output_config: undefined, ...fields }).reasoning_effort
    expect(effortOf({ thinking: { type: 'adaptive' } })).toBe('medium')
    expect(effortOf({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } })).toBe('low')
    expect(effortOf({ thinking: { type: 'adaptive' }, output_config: { effort: 'max' } })).toBe('high')
    expect(effortOf({ thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } })).toBe('xhigh')
    expect(effortOf({ thinking: { type: 'enabled', budget_tokens: 1500 } })).toBe('low')
    expect(effortOf({ thinking: { type: 'enabled', budget_tokens: 31999 } })).toBe('high')
    expect(effortOf({ output_config: { effort: 'medium' } })).toBe('medium')
    expect(effortOf({ thinking: { type: 'disabled' } })).toBeUndefined()
    expect(effortOf({ thinking: { type: 'disabled' }, output_config: { effort: 'low' } })).toBeUndefined()
    expect(effortOf({})).toBeUndefined()
  })

  it('drops an assistant turn that held only thinking instead of sending it empty', () => {
    const body = toOpenAI({
      model: 'm', max_tokens: 100,
      messages: [
        { role: 'user', content: 'Think about it.' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Hmm.', signature: 'sig' }, { type: 'redacted_thinking', data: 'opaque' }] },
        { role: 'user', content: 'Well?' },
      ],
    })
    expect(body.messages).toEqual([{ role: 'user', content: 'Think about it.' }, { role: 'user', content: 'Well?' }])
  })
})

describe('Claude Code -> Gemini', () => {
  const out = toGemini(claudeCodeRequest())

  it('puts every system text in systemInstruction and keeps the turns, thinking left out', () => {
    expect(out.systemInstruction.parts.map((p: any) => p.text)).toEqual([
      'x-anthropic-billing-header: cc_version=2.1.154; cc_entrypoint=cli',
      "You are Claude Code, Anthropic's official CLI for Claude.",
      'You are an interactive CLI tool that helps users with software engineering tasks.',
      'Available agents: general-purpose, Explore, Plan.',
      'Available skills: pdf, xlsx.',
    ])
    expect(out.contents.map((c: any) => c.role)).toEqual(['user', 'model', 'user', 'model', 'user'])
    expect(out.contents[1].parts).toEqual([{ text: 'Let me read the test.' }, { functionCall: { name: 'Read', args: { file_path: '/repo/src/sum.test.ts' } } }])
    expect(out.contents[2].parts).toEqual([{ functionResponse: { name: 'Read', response: { result: 'expect(sum(1, 2)).toBe(3)' } } }])
    expect(out.contents[3].parts).toEqual([{ functionCall: { name: 'Bash', args: { command: 'npm test' } } }])
    expect(out.contents[4].parts).toEqual([{ functionResponse: { name: 'Bash', response: { error: 'FAIL src/sum.test.ts' } } }])
    expect(out.tools[0].functionDeclarations).toHaveLength(34)
    expect(JSON.stringify(out)).not.toContain('cache_control')
    expect(JSON.stringify(out)).not.toContain(READ_SIGNATURE)
  })

  it('maps the cap and effort high onto maxOutputTokens and a thinking budget, with thoughts shown', () => {
    expect(out.generationConfig).toEqual({ maxOutputTokens: 64000, thinkingConfig: { thinkingBudget: 24576, includeThoughts: true } })
  })

  it('maps each reasoning control onto thinkingConfig', () => {
    const configOf = (fields: Record<string, unknown>) => toGemini({ ...claudeCodeRequest(), thinking: undefined, output_config: undefined, ...fields }).generationConfig.thinkingConfig
    expect(configOf({ thinking: { type: 'adaptive' } })).toEqual({ thinkingBudget: -1, includeThoughts: true })
    expect(configOf({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } })).toEqual({ thinkingBudget: 1024, includeThoughts: true })
    expect(configOf({ thinking: { type: 'adaptive' }, output_config: { effort: 'max' } })).toEqual({ thinkingBudget: 24576, includeThoughts: true })
    expect(configOf({ thinking: { type: 'adaptive', display: 'omitted' } })).toEqual({ thinkingBudget: -1 })
    expect(configOf({ thinking: { type: 'enabled', budget_tokens: 2048 } })).toEqual({ thinkingBudget: 2048, includeThoughts: true })
    // Claude Code's usual 31999 is more than Gemini 2.5 Flash takes.
    expect(configOf({ thinking: { type: 'enabled', budget_tokens: 31999 } })).toEqual({ thinkingBudget: 24576, includeThoughts: true })
    expect(configOf({ thinking: { type: 'disabled' } })).toEqual({ thinkingBudget: 0 })
    expect(configOf({ output_config: { effort: 'medium' } })).toEqual({ thinkingBudget: 8192 })
    expect(configOf({})).toBeUndefined()
  })

  it('merges the user turns a removed system entry or a thinking-only turn leaves side by side', () => {
    const body = toGemini({
      model: 'm', max_tokens: 100,
      messages: [
        { role: 'user', content: 'First.' },
        { role: 'system', content: 'Mind the style guide.' },
        { role: 'user', content: 'Second.' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Hmm.', signature: 'sig' }] },
        { role: 'user', content: 'Third.' },
      ],
    })
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Mind the style guide.' }] })
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'First.' }, { text: 'Second.' }, { text: 'Third.' }] }])
  })
})

describe('system entries among the messages', () => {
  it('are hoisted after the top-level system, in order, from string or block content', () => {
    const canonical = anthropicRequestToCanonical({
      model: 'm', max_tokens: 10, system: 'Top.',
      messages: [
        { role: 'system', content: 'Before any turn.' },
        { role: 'user', content: 'Hi' },
        { role: 'system', content: [{ type: 'text', text: 'After the user.' }, { type: 'text', text: '' }] },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'More' },
        { role: 'system', content: 'Last.' },
      ],
    })
    expect(canonical.system).toEqual(['Top.', 'Before any turn.', 'After the user.', 'Last.'])
    expect(canonical.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user'])
  })

  it('leave out an entry cleared at the next user turn once one came', () => {
    const canonical = anthropicRequestToCanonical({
      model: 'm', max_tokens: 10,
      messages: [
        { role: 'user', content: 'One' },
        { role: 'system', content: 'Only for turn one.', clear_at: 'next_user_message' },
        { role: 'assistant', content: 'Ok' },
        { role: 'user', content: 'Two' },
        { role: 'system', content: 'Only for turn two.', clear_at: 'next_user_message' },
      ],
    })
    expect(canonical.system).toEqual(['Only for turn two.'])
  })

  it('leave same-role neighbours that the Anthropic encoder merges into one turn', () => {
    const canonical = anthropicRequestToCanonical({
      model: 'm', max_tokens: 10,
      messages: [{ role: 'user', content: 'A' }, { role: 'system', content: 'S' }, { role: 'user', content: 'B' }],
    })
    expect(canonicalToAnthropicRequest(canonical)).toMatchObject({
      system: [{ type: 'text', text: 'S' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }] }],
    })
    expect(toOpenAI({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'A' }, { role: 'system', content: 'S' }, { role: 'user', content: 'B' }] }).messages)
      .toEqual([{ role: 'system', content: 'S' }, { role: 'user', content: 'A' }, { role: 'user', content: 'B' }])
  })

  it('refuse a block that is not text, naming it', () => {
    rejects(() => toOpenAI({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'A' }, { role: 'system', content: [{ type: 'tool_reference', tool_name: 'x' }] }] }), /messages\.1\.content\.0: 'tool_reference' blocks/)
  })
})

describe('thinking blocks handed back to Anthropic', () => {
  it('keeps signed and redacted thinking in order at the head of the turn; unsigned thinking is dropped', () => {
    const canonical = anthropicRequestToCanonical(claudeCodeRequest())
    canonical.messages[1]!.content.unshift({ type: 'thinking', text: 'unsigned, from another provider' })
    const body = canonicalToAnthropicRequest({ ...canonical, model: 'claude-sonnet-4-5' })
    expect(body.messages).toHaveLength(5)
    const [, first, , second] = body.messages as any[]
    expect(first.content.slice(0, 2)).toEqual([
      { type: 'thinking', thinking: 'Read the test first.', signature: READ_SIGNATURE },
      { type: 'redacted_thinking', data: REDACTED },
    ])
    expect(second.content[0]).toEqual({ type: 'thinking', thinking: 'Run the tests.', signature: BASH_SIGNATURE })
    // The open tool loop starts with its signed thinking, so a budget (effort high's) can stay on.
    expect(body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 24576 }, max_tokens: 64000 })
  })

  it('turns a budget off when an OpenAI client continues a tool loop whose thinking it never received', () => {
    const body = openaiToAnthropic({
      model: 'anthropic/claude-sonnet-4-5', reasoning_effort: 'medium', max_completion_tokens: 16000,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', reasoning_content: 'I will call the tool.', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '21C' },
      ],
    })
    expect(body.thinking).toEqual({ type: 'disabled' })
    expect(body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] })
    expect(JSON.stringify(body)).not.toContain('I will call the tool.')
  })

  it('keeps the budget on for a new user turn, where no tool loop is open', () => {
    const body = openaiToAnthropic({
      model: 'anthropic/claude-sonnet-4-5', reasoning_effort: 'low', max_completion_tokens: 16000,
      messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', reasoning_content: 'greet', content: 'Hello' }, { role: 'user', content: 'Weather?' }],
    })
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 })
    expect(body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Hello' }] })
  })

  it('strips thinking from a final assistant turn when thinking is off', () => {
    const canonical = anthropicRequestToCanonical({
      model: 'm', max_tokens: 100,
      messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 't', signature: 's' }, { type: 'text', text: 'Sure,' }] }],
    })
    expect(canonicalToAnthropicRequest(canonical).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Sure,' }] },
    ])
  })
})

describe('OpenAI client -> Anthropic reasoning', () => {
  const ask = (fields: Record<string, unknown>) => openaiToAnthropic({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }], ...fields })

  it('keeps budget_tokens at least 1024 and below max_tokens, lowering the budget under a cap the client set', () => {
    expect(ask({ reasoning_effort: 'high', max_completion_tokens: 8000 })).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 7999 }, max_tokens: 8000 })
    expect(ask({ reasoning_effort: 'medium' })).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 8192 }, max_tokens: 8192 + 4096 })
    expect(ask({ reasoning_effort: 'low', max_completion_tokens: 1000 })).toMatchObject({ thinking: { type: 'disabled' }, max_tokens: 1000 })
    for (const effort of ['minimal', 'low', 'medium', 'high', 'xhigh', 'max']) {
      for (const cap of [undefined, 1025, 2000, 12000, 64000]) {
        const body = ask({ reasoning_effort: effort, ...(cap ? { max_completion_tokens: cap } : {}) })
        if (cap) expect(body.max_tokens).toBe(cap)
        if (body.thinking?.type === 'enabled') {
          expect(body.thinking.budget_tokens).toBeGreaterThanOrEqual(1024)
          expect(body.thinking.budget_tokens).toBeLessThan(body.max_tokens)
        }
      }
    }
  })

  it('turns thinking off explicitly for none and minimal, and drops sampling only while thinking', () => {
    expect(ask({ reasoning_effort: 'none', temperature: 0.3 })).toMatchObject({ thinking: { type: 'disabled' }, temperature: 0.3 })
    expect(ask({ reasoning_effort: 'minimal' }).thinking).toEqual({ type: 'disabled' })
    const thinking = ask({ reasoning_effort: 'high', temperature: 0.3, top_p: 0.9, max_completion_tokens: 30000 })
    expect(thinking.thinking).toEqual({ type: 'enabled', budget_tokens: 24576 })
    expect(thinking).not.toHaveProperty('temperature')
    expect(thinking).not.toHaveProperty('top_p')
    expect(thinking).not.toHaveProperty('output_config') // Haiku 4.5 and other budget-era models refuse the effort field
  })

  it('gives adaptive-only models (Opus 4.7+, generation 5) adaptive thinking with output_config.effort and no sampling', () => {
    const opus = ask({ model: 'anthropic/claude-opus-4-8', reasoning_effort: 'xhigh', temperature: 0.2, max_completion_tokens: 32000 })
    expect(opus).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' }, max_tokens: 32000 })
    expect(opus).not.toHaveProperty('temperature')
    expect(ask({ model: 'claude-sonnet-5', reasoning_effort: 'minimal' }).thinking).toEqual({ type: 'disabled' })
    expect(ask({ model: 'claude-sonnet-5-5', reasoning_effort: 'medium' })).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' }, max_tokens: 4096 })
    expect(ask({ model: 'claude-sonnet-5', temperature: 0.2 })).not.toHaveProperty('temperature')
    for (const model of ['claude-sonnet-4-5', 'claude-opus-4-6', 'claude-haiku-4-5-20251001', 'smart']) {
      expect(ask({ model, reasoning_effort: 'low' }).thinking.type).toBe('enabled')
    }
  })
})

describe('other fields Claude Code sends', () => {
  const base = () => ({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] })

  it('refuses Anthropic server tools with a 400 naming the tool; custom and untyped tools pass', () => {
    const serverTools = [
      { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
      { type: 'bash_20250124', name: 'bash' },
      { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
      { type: 'computer_20250124', name: 'computer', display_width_px: 1024, display_height_px: 768 },
      { type: 'code_execution_20250825', name: 'code_execution' },
    ]
    for (const tool of serverTools) {
      rejects(() => toOpenAI({ ...base(), tools: [claudeCodeTools()[0], tool] }), new RegExp(`tools\\.1: '${tool.name}' is an Anthropic server tool \\(${tool.type}\\)`))
      rejects(() => toGemini({ ...base(), tools: [tool] }), new RegExp(`'${tool.name}'`))
    }
    const ok = toOpenAI({ ...base(), tools: [{ type: 'custom', name: 'a', input_schema: { type: 'object' } }, { type: null, name: 'b', input_schema: { type: 'object' } }] })
    expect(ok.tools.map((t: any) => t.function.name)).toEqual(['a', 'b'])
  })

  it('maps tool_choice with disable_parallel_tool_use', () => {
    const out = toOpenAI({ ...base(), tools: claudeCodeTools().slice(0, 2), tool_choice: { type: 'auto', disable_parallel_tool_use: true } })
    expect(out).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false })
  })

  it('refuses document blocks, naming them, and reads search_result blocks as text', () => {
    rejects(() => toOpenAI({ ...base(), messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }] }), /messages\.0\.content\.0: 'document' blocks/)
    rejects(() => toGemini({
      ...base(),
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'Read', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }] },
      ],
    }), /messages\.1\.content\.0\.content\.0: 'document' blocks/)
    const searchResult = { type: 'search_result', source: 'https://docs.example.com/sum', title: 'sum()', content: [{ type: 'text', text: 'Adds two numbers.' }, { type: 'text', text: 'Returns a number.' }] }
    const out = toOpenAI({ ...base(), messages: [{ role: 'user', content: [searchResult, { type: 'text', text: 'Summarise.' }] }] })
    expect(out.messages[0].content[0]).toEqual({ type: 'text', text: 'Search result "sum()" (https://docs.example.com/sum):\nAdds two numbers.\nReturns a number.' })
    const inResult = toGemini({
      ...base(),
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'search', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [searchResult] }] },
      ],
    })
    expect(inResult.contents[1].parts[0].functionResponse.response.result).toContain('Adds two numbers.')
  })

  it('carries output_config.format as a JSON schema response format', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } }
    expect(toOpenAI({ ...base(), output_config: { format: { type: 'json_schema', schema } } }).response_format).toEqual({ type: 'json_schema', json_schema: { name: 'response', schema } })
  })
})

describe('requestedOutputTokens', () => {
  it('reads OpenAI chat: max_completion_tokens over max_tokens, times n', () => {
    expect(requestedOutputTokens({ max_tokens: 100 }, 'openai-chat')).toBe(100)
    expect(requestedOutputTokens({ max_tokens: 100, max_completion_tokens: 200 }, 'openai-chat')).toBe(200)
    expect(requestedOutputTokens({ max_tokens: 100, max_completion_tokens: null }, 'openai-chat')).toBe(100)
    expect(requestedOutputTokens({ max_completion_tokens: 200, n: 3 }, 'openai-chat')).toBe(600)
    expect(requestedOutputTokens({ max_tokens: 50, n: 1 }, 'openai-chat')).toBe(50)
    expect(requestedOutputTokens({ messages: [] }, 'openai-chat')).toBeUndefined()
  })

  it('agrees with the translation when both OpenAI fields are set', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 100, max_completion_tokens: 200 }
    expect((translateRequest(body, 'openai-chat', 'anthropic-messages') as any).max_tokens).toBe(requestedOutputTokens(body, 'openai-chat'))
    expect((translateRequest(body, 'openai-chat', 'gemini') as any).generationConfig.maxOutputTokens).toBe(200)
  })

  it('reads Anthropic, Responses and Gemini (times candidateCount); nothing for embeddings', () => {
    expect(requestedOutputTokens(claudeCodeRequest(), 'anthropic-messages')).toBe(64000)
    expect(requestedOutputTokens({ messages: [] }, 'anthropic-messages')).toBeUndefined()
    expect(requestedOutputTokens({ input: 'x', max_output_tokens: 900 }, 'openai-responses' as WireFormat)).toBe(900)
    expect(requestedOutputTokens({ generationConfig: { maxOutputTokens: 1000 } }, 'gemini')).toBe(1000)
    expect(requestedOutputTokens({ generationConfig: { maxOutputTokens: 1000, candidateCount: 2 } }, 'gemini')).toBe(2000)
    expect(requestedOutputTokens({ generation_config: { max_output_tokens: 300 } }, 'gemini')).toBe(300)
    expect(requestedOutputTokens({ contents: [] }, 'gemini')).toBeUndefined()
    expect(requestedOutputTokens({ input: 'x' }, 'openai-embeddings')).toBeUndefined()
  })
})

describe('clampOutputTokens', () => {
  const request = (fields: Partial<CanonicalRequest>): CanonicalRequest => ({ system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }], stream: false, ...fields })

  it('lowers maxTokens and a budget to a model limit, and says so', () => {
    const canonical = request({ maxTokens: 64000, reasoning: { budgetTokens: 31999 } })
    expect(clampOutputTokens(canonical, 8192)).toBe(true)
    expect(canonical).toMatchObject({ maxTokens: 8192, reasoning: { budgetTokens: 8191 } })
  })

  it('leaves a request within the limit alone', () => {
    const canonical = request({ maxTokens: 1000, reasoning: { effort: 'high' } })
    expect(clampOutputTokens(canonical, 8192)).toBe(false)
    expect(canonical).toMatchObject({ maxTokens: 1000, reasoning: { effort: 'high' } })
    expect(clampOutputTokens(request({}), 8192)).toBe(false)
  })

  it('caps a thinking request that set no cap, so the Anthropic budget fits under the limit', () => {
    const canonical = request({ model: 'claude-sonnet-4-5', reasoning: { effort: 'high' } })
    expect(clampOutputTokens(canonical, 16000)).toBe(true)
    expect(canonicalToAnthropicRequest(canonical)).toMatchObject({ max_tokens: 16000, thinking: { type: 'enabled', budget_tokens: 15999 } })
  })
})
