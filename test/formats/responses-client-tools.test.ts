/**
 * Client tools of the Responses API that are neither functions nor hosted (Codex offers both kinds): `namespace`
 * tools, whose members become `<namespace>__<name>` functions, and freeform `custom` tools (Codex's `apply_patch`),
 * which become functions of one string argument `input`. Requests are translated to Anthropic, chat and Gemini
 * bodies; a scripted upstream model calls the flattened tools in its own format; the official openai SDK reads
 * the calls back, through `responses.stream()` and `responses.create()`, as the items the client offered.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import OpenAI from 'openai'
import type { ResponseCreateParamsStreaming, ResponseInputItem, Tool } from 'openai/resources/responses/responses'
import { GatewayError } from '../../core/errors.ts'
import {
  codecFor, createStreamTranslator, translateRequest, translateResponse, type SSEFrame, type TranslateInfo, type WireFormat,
} from '../../core/formats/index.ts'
import { ClientToolNames, CustomInputReader } from '../../core/formats/openai-responses.ts'
import type { SSEEvent } from '../../core/types.ts'
import { anthropicEvent, frameText, INFO, sse } from './helpers.ts'
import { expectSdkEvents, expectSdkResponse } from './responses-shapes.ts'

const codec = codecFor('openai-responses')

/** Anthropic and OpenAI chat: `^[a-zA-Z0-9_-]{1,64}$`; Gemini also wants a letter or underscore first. */
const ANTHROPIC_NAME = /^[a-zA-Z0-9_-]{1,64}$/
const GEMINI_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/

/** A patch as Codex's apply_patch takes it, with what JSON must escape: quotes, backslashes, tabs, non-ASCII. */
const PATCH = '*** Begin Patch\n*** Add File: /tmp/hello.txt\n+hello "world" \\o/\t✓ 🎉\n*** End Patch\n'
const GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\nend_patch: "*** End Patch" LF?\n'

const EXEC_COMMAND = {
  type: 'function', name: 'exec_command', description: 'Runs a command in a PTY.', strict: false,
  parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'], additionalProperties: false },
} as const satisfies Tool
const APPLY_PATCH = {
  type: 'custom', name: 'apply_patch',
  description: 'The `apply_patch` tool can be used to edit files. This is a FREEFORM tool, so do not wrap the patch in JSON.',
  format: { type: 'grammar', syntax: 'lark', definition: GRAMMAR },
} as const satisfies Tool
const MULTI_AGENT = {
  type: 'namespace', name: 'multi_agent_v1', description: 'Tools for spawning and managing sub-agents.',
  tools: [
    { type: 'function', name: 'spawn_agent', description: 'Spawn a sub-agent.', strict: false, parameters: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
    { type: 'function', name: 'close_agent', parameters: { type: 'object', properties: { target: { type: 'string' } } } },
    { type: 'custom', name: 'note', description: 'Leave a note for the other agents.', format: { type: 'text' } },
  ],
} as const satisfies Tool

/** A second Codex turn: its tools, and a history with a namespaced function call and a custom tool call. */
const codexRequest = () => ({
  model: 'codex-anthropic',
  stream: true,
  store: false,
  tool_choice: 'auto',
  parallel_tool_calls: true,
  tools: [EXEC_COMMAND, APPLY_PATCH, MULTI_AGENT],
  input: [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are a coding agent.' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Add hello.txt, ask a helper.' }] },
    { type: 'function_call', id: 'fc_1', call_id: 'call_spawn', namespace: 'multi_agent_v1', name: 'spawn_agent', arguments: '{"message":"look around"}', status: 'completed' },
    { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_patch', name: 'apply_patch', input: PATCH },
    { type: 'function_call_output', id: 'fco_1', call_id: 'call_spawn', output: 'agent-7 started' },
    { type: 'custom_tool_call_output', id: 'ctco_1', call_id: 'call_patch', output: 'Success. Updated the following files:\nA /tmp/hello.txt\n' },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Go on.' }] },
  ],
} satisfies ResponseCreateParamsStreaming)

function rejects(fn: () => unknown, pattern: RegExp) {
  let thrown: unknown
  try { fn() } catch (error) { thrown = error }
  expect(GatewayError.is(thrown), 'expected a GatewayError').toBe(true)
  expect(thrown).toMatchObject({ status: 400, param: 'tools' })
  expect((thrown as Error).message).toMatch(pattern)
}

describe('namespace and custom tools onto other providers: requests', () => {
  it('Anthropic: members become <namespace>__<name> tools with the namespace described, apply_patch a tool of one string input', () => {
    const body = translateRequest(codexRequest(), 'openai-responses', 'anthropic-messages') as any
    expect(body.tools.map((t: any) => t.name)).toEqual(['exec_command', 'apply_patch', 'multi_agent_v1__spawn_agent', 'multi_agent_v1__close_agent', 'multi_agent_v1__note'])
    for (const tool of body.tools) expect(tool.name).toMatch(ANTHROPIC_NAME)
    const [, patch, spawn, close, note] = body.tools
    expect(spawn.description).toBe('multi_agent_v1: Tools for spawning and managing sub-agents.\n\nSpawn a sub-agent.')
    expect(close.description).toBe('multi_agent_v1: Tools for spawning and managing sub-agents.')
    expect(spawn.input_schema).toEqual(MULTI_AGENT.tools[0].parameters)
    const inputOnly = { type: 'object', properties: { input: { type: 'string', description: expect.any(String) } }, required: ['input'], additionalProperties: false }
    expect(patch.input_schema).toEqual(inputOnly)
    expect(note.input_schema).toEqual(inputOnly)
    // The model is told what the freeform text must be: the client's description, the wrapping, the grammar.
    expect(patch.description).toContain(APPLY_PATCH.description)
    expect(patch.description).toContain('single string argument `input`')
    expect(patch.description).toContain(`lark grammar:\n${GRAMMAR}`)
    expect(note.description).toMatch(/^multi_agent_v1: Tools for spawning and managing sub-agents\.\n\nLeave a note for the other agents\.\n\nCall this tool/)

    // History: the namespaced call and the custom call are tool_use blocks under the flattened names.
    expect(body.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user'])
    expect(body.messages[1].content).toEqual([
      { type: 'tool_use', id: 'call_spawn', name: 'multi_agent_v1__spawn_agent', input: { message: 'look around' } },
      { type: 'tool_use', id: 'call_patch', name: 'apply_patch', input: { input: PATCH } },
    ])
    expect(body.messages[2].content.map((b: any) => [b.type, b.tool_use_id])).toEqual([['tool_result', 'call_spawn'], ['tool_result', 'call_patch'], ['text', undefined]])
    expect(JSON.stringify(body.messages[2].content[1].content)).toContain('A /tmp/hello.txt')
  })

  it('chat completions and Gemini get the same names and arguments', () => {
    const chat = translateRequest(codexRequest(), 'openai-responses', 'openai-chat') as any
    expect(chat.tools.map((t: any) => t.function.name)).toEqual(['exec_command', 'apply_patch', 'multi_agent_v1__spawn_agent', 'multi_agent_v1__close_agent', 'multi_agent_v1__note'])
    const assistant = chat.messages.find((m: any) => m.role === 'assistant')
    expect(assistant.tool_calls.map((c: any) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['multi_agent_v1__spawn_agent', { message: 'look around' }], ['apply_patch', { input: PATCH }],
    ])
    expect(chat.messages.filter((m: any) => m.role === 'tool').map((m: any) => m.tool_call_id)).toEqual(['call_spawn', 'call_patch'])

    const gemini = translateRequest(codexRequest(), 'openai-responses', 'gemini') as any
    const declarations = gemini.tools.flatMap((t: any) => t.functionDeclarations ?? [])
    expect(declarations.map((d: any) => d.name)).toEqual(chat.tools.map((t: any) => t.function.name))
    for (const d of declarations) expect(d.name).toMatch(GEMINI_NAME)
    const call = gemini.contents.flatMap((c: any) => c.parts).find((p: any) => p.functionCall?.name === 'apply_patch')
    expect(call.functionCall.args).toEqual({ input: PATCH })
  })

  it('tool_choice and allowed_tools name namespace members and custom tools', () => {
    const decode = (tool_choice: unknown) => codec.decodeRequest!({ ...codexRequest(), tool_choice })
    expect(decode({ type: 'custom', name: 'apply_patch' }).toolChoice).toEqual({ type: 'tool', name: 'apply_patch' })
    expect(decode({ type: 'function', name: 'spawn_agent', namespace: 'multi_agent_v1' }).toolChoice).toEqual({ type: 'tool', name: 'multi_agent_v1__spawn_agent' })
    const allowed = decode({ type: 'allowed_tools', mode: 'auto', tools: [{ type: 'custom', name: 'apply_patch' }, { type: 'namespace', name: 'multi_agent_v1' }] })
    expect(allowed.tools!.map((t) => t.name)).toEqual(['apply_patch', 'multi_agent_v1__spawn_agent', 'multi_agent_v1__close_agent', 'multi_agent_v1__note'])
  })

  it('names that would clash, run long or hold other characters get a portable form with a hash', () => {
    const tools = [
      { type: 'function', name: 'crm__lookup', parameters: {} },
      { type: 'namespace', name: 'crm', description: '', tools: [{ type: 'function', name: 'lookup' }, { type: 'function', name: 'find' }] },
      { type: 'namespace', name: 'n'.repeat(60), description: '', tools: [{ type: 'function', name: 'm'.repeat(30) }] },
      { type: 'namespace', name: 'my.server', description: '', tools: [{ type: 'function', name: 'get data' }] },
      { type: 'namespace', name: '9lives', description: '', tools: [{ type: 'custom', name: 'x' }] },
    ]
    const names = codec.decodeRequest!({ model: 'm', input: 'x', tools }).tools!.map((t) => t.name)
    expect(names[0]).toBe('crm__lookup')
    expect(names[1]).toMatch(/^crm__lookup_[0-9a-f]{8}$/)
    expect(names[2]).toBe('crm__find')
    expect(names[3]).toMatch(/^n{55}_[0-9a-f]{8}$/) // 94 characters cut to 64, the hash kept
    expect(names[4]).toMatch(/^my_server__get_data_[0-9a-f]{8}$/)
    expect(names[5]).toMatch(/^_9lives__x_[0-9a-f]{8}$/)
    const back = new ClientToolNames(tools)
    expect(names.map((n) => back.ref(n))).toEqual([
      { kind: 'function', name: 'crm__lookup' }, { kind: 'function', name: 'lookup', namespace: 'crm' }, { kind: 'function', name: 'find', namespace: 'crm' },
      { kind: 'function', name: 'm'.repeat(30), namespace: 'n'.repeat(60) }, { kind: 'function', name: 'get data', namespace: 'my.server' }, { kind: 'custom', name: 'x', namespace: '9lives' },
    ])
  })

  it('any namespace and member names: every flattened name is portable, unique, and maps back to its tool', () => {
    const name = fc.string({ minLength: 1, maxLength: 70, unit: 'binary' })
    fc.assert(fc.property(
      fc.uniqueArray(fc.tuple(name, name), { minLength: 1, maxLength: 8, selector: ([ns, member]) => `${ns}\u0000${member}` }),
      fc.uniqueArray(fc.stringMatching(/^[a-z_]{1,12}$/), { maxLength: 4 }),
      (pairs, plain) => {
        // Top-level functions, some named as a flattened member would be.
        const taken = [...plain, ...pairs.slice(0, 2).map(([ns, member]) => `${ns}__${member}`).filter((n) => ANTHROPIC_NAME.test(n))]
        const tools = [
          ...[...new Set(taken)].map((n) => ({ type: 'function', name: n })),
          ...pairs.map(([ns, member]) => ({ type: 'namespace', name: ns, description: 'd', tools: [{ type: 'function', name: member }] })),
        ]
        const canonical = codec.decodeRequest!({ model: 'm', input: 'x', tools }).tools!.map((t) => t.name)
        expect(new Set(canonical).size).toBe(canonical.length)
        const back = new ClientToolNames(tools)
        canonical.slice(new Set(taken).size).forEach((flat, i) => {
          expect(flat).toMatch(GEMINI_NAME)
          expect(flat).toMatch(ANTHROPIC_NAME)
          expect(back.ref(flat)).toEqual({ kind: 'function', name: pairs[i]![1], namespace: pairs[i]![0] })
          expect(back.canonical(pairs[i]![1], pairs[i]![0])).toBe(flat)
        })
      },
    ))
  })

  it('hosted tools and tool_search stay refused, saying the request can go without them and how Codex leaves them out', () => {
    const translate = (tools: unknown[]) => () => translateRequest({ model: 'm', input: 'x', tools: [EXEC_COMMAND, ...tools] }, 'openai-responses', 'anthropic-messages')
    rejects(translate([{ type: 'web_search', external_web_access: true }]), /^tools\[1\]: the hosted tool 'web_search' runs on OpenAI's servers and cannot be translated to this provider; send the request without it \(Codex: web_search = "disabled" in config\.toml\)$/)
    rejects(translate([{ type: 'tool_search', execution: 'client', parameters: {} }]), /^tools\[1\]: the OpenAI tool type 'tool_search' has no equivalent .*send the request without it \(Codex: multi_agent = false under \[features\]/)
    rejects(translate([{ type: 'file_search', vector_store_ids: [] }]), /^tools\[1\]: the hosted tool 'file_search' .*send the request without it$/)
    rejects(translate([{ ...MULTI_AGENT, tools: [MULTI_AGENT.tools[0], { type: 'mcp', server_label: 's' }] }]), /^tools\[1\]\.tools\[1\]: .*'mcp'/)
    rejects(translate([{ ...APPLY_PATCH, format: { type: 'grammar', syntax: 'lark' } }]), /^tools\[1\]\.format\.definition is required/)
  })
})

describe('a custom call’s input, read from streamed JSON arguments', () => {
  const split = (text: string, cuts: number[]) => {
    const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
    return [0, ...points].map((from, i, all) => text.slice(from, all[i + 1] ?? text.length))
  }

  it('any input, split anyhow, streams out whole and in order (escapes held until complete)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (input, cuts, spaced) => {
      const json = spaced ? ` { "input" :  ${JSON.stringify(input)} } ` : JSON.stringify({ input })
      const reader = new CustomInputReader()
      const streamed = split(json, cuts).map((piece) => reader.push(piece)).join('')
      expect(streamed).toBe(input)
      expect(reader.decoded).toBe(input)
      expect(reader.value).toBe(input)
    }))
  })

  it('arguments of another shape are read whole at the end', () => {
    const read = (...pieces: string[]) => {
      const reader = new CustomInputReader()
      const streamed = pieces.map((p) => reader.push(p)).join('')
      return [streamed, reader.value]
    }
    expect(read('{"patch":', '"a\\nb"}')).toEqual(['', 'a\nb']) // the one string argument the model chose
    expect(read('{"n":1,', '"input":"x"}')).toEqual(['', 'x'])
    expect(read('{"input":"cut sho')).toEqual(['cut sho', 'cut sho']) // never completed: what was decoded
    expect(read('not json')).toEqual(['', 'not json'])
    expect(read('')).toEqual(['', ''])
  })
})

// ---------------------------------------------------------------------------------------------------------
// Calls back: a scripted upstream model calls the flattened tools; the SDK reads the client's items
// ---------------------------------------------------------------------------------------------------------

interface Call { id: string; name: string; args: Record<string, unknown> }

/** The calls the scripted model makes, by the names the translated request offered it. */
function scriptedCalls(offered: string[]): Call[] {
  const named = (suffix: string) => {
    const name = offered.find((n) => n === suffix || n.endsWith(`__${suffix}`))
    if (!name) throw new Error(`the upstream request offers no ${suffix} (tools: ${offered.join(', ')})`)
    return name
  }
  return [
    { id: 'call_1', name: named('spawn_agent'), args: { message: 'look around' } },
    { id: 'call_2', name: named('apply_patch'), args: { input: PATCH } },
    { id: 'call_3', name: named('note'), args: { input: 'remember "this"' } },
    { id: 'call_4', name: named('exec_command'), args: { cmd: 'ls' } },
  ]
}

/** Pieces of a few characters, as a model streams arguments. */
const pieces = (text: string, size = 7) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size))

function anthropicStream(calls: Call[]): SSEEvent[] {
  const usage = { input_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 }
  return [
    anthropicEvent({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage } }),
    ...calls.flatMap((call, index) => [
      anthropicEvent({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }),
      ...pieces(JSON.stringify(call.args)).map((partial_json) => anthropicEvent({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } })),
      anthropicEvent({ type: 'content_block_stop', index }),
    ]),
    anthropicEvent({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 40 } }),
    anthropicEvent({ type: 'message_stop' }),
  ]
}

function chatStream(calls: Call[]): SSEEvent[] {
  const chunk = (delta: object, finish: string | null = null) => sse({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] })
  return [
    chunk({ role: 'assistant', content: null }),
    ...calls.flatMap((call, index) => [
      chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      ...pieces(JSON.stringify(call.args)).map((args) => chunk({ tool_calls: [{ index, function: { arguments: args } }] })),
    ]),
    chunk({}, 'tool_calls'),
    sse('[DONE]'),
  ]
}

const anthropicMessage = (calls: Call[]) => ({
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', stop_reason: 'tool_use', stop_sequence: null,
  content: calls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: call.args })),
  usage: { input_tokens: 50, output_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
})

const chatCompletion = (calls: Call[]) => ({
  id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-4o',
  choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } })) } }],
  usage: { prompt_tokens: 50, completion_tokens: 40, total_tokens: 90 },
})

/** The tool names an upstream body offers, in its format. */
function offeredNames(body: any, format: WireFormat): string[] {
  return format === 'anthropic-messages' ? body.tools.map((t: any) => t.name) : body.tools.map((t: any) => t.function.name)
}

function translateStream(from: WireFormat, events: SSEEvent[], info: TranslateInfo): SSEFrame[] {
  const translator = createStreamTranslator(from, 'openai-responses', info)
  return [...events.flatMap((event) => translator.push(event)), ...translator.end()]
}

/** The items the client should get back for the scripted calls. */
const EXPECTED_ITEMS = [
  { type: 'function_call', call_id: 'call_1', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{"message":"look around"}', status: 'completed' },
  { type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: PATCH, status: 'completed' },
  { type: 'custom_tool_call', call_id: 'call_3', name: 'note', namespace: 'multi_agent_v1', input: 'remember "this"', status: 'completed' },
  { type: 'function_call', call_id: 'call_4', name: 'exec_command', arguments: '{"cmd":"ls"}', status: 'completed' },
]

let server: Server
let base: string
/** The upstream bodies the in-test server translated requests into, last first. */
const upstreamBodies: Array<{ format: WireFormat; body: any }> = []

beforeAll(async () => {
  // /<format>/v1/responses: the Responses request translated to <format>, the scripted model's answer in that
  // format, translated back: what the gateway does, without the network in between.
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    const format = req.url!.split('/')[1] as WireFormat
    const upstream = translateRequest(request, 'openai-responses', format)
    upstreamBodies.unshift({ format, body: upstream })
    const calls = scriptedCalls(offeredNames(upstream, format))
    const info = { model: request.model, id: 'req9', created: INFO.created, request }
    if (!request.stream) {
      const whole = format === 'anthropic-messages' ? anthropicMessage(calls) : chatCompletion(calls)
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(translateResponse(whole, format, 'openai-responses', info)))
    }
    const events = format === 'anthropic-messages' ? anthropicStream(calls) : chatStream(calls)
    res.writeHead(200, { 'content-type': 'text/event-stream' }).end(frameText(translateStream(format, events, info)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => server?.close(() => resolve()))
})

const client = (format: WireFormat) => new OpenAI({ baseURL: `${base}/${format}/v1`, apiKey: 'test-key', maxRetries: 0 })

describe('calls back as the items the client offered', () => {
  it('the stream encoder writes a custom call as custom_tool_call_input events, a member call with its namespace', () => {
    const info = { ...INFO, request: codexRequest() }
    const calls = scriptedCalls(offeredNames(translateRequest(codexRequest(), 'openai-responses', 'anthropic-messages'), 'anthropic-messages'))
    const frames = translateStream('anthropic-messages', anthropicStream(calls), info)
    expectSdkEvents(frames)
    const events = frames.map((f) => JSON.parse(f.data))
    const patchIndex = events.find((e) => e.type === 'response.output_item.added' && e.item.name === 'apply_patch').output_index
    const deltas = events.filter((e) => e.type === 'response.custom_tool_call_input.delta' && e.output_index === patchIndex).map((e) => e.delta)
    expect(deltas.length).toBeGreaterThan(3) // streamed as the arguments came, not at the end
    expect(deltas.join('')).toBe(PATCH)
    expect(events.find((e) => e.type === 'response.custom_tool_call_input.done' && e.output_index === patchIndex).input).toBe(PATCH)
    expect(events.filter((e) => e.type === 'response.output_item.added').map((e) => [e.item.type, e.item.name, e.item.namespace])).toEqual([
      ['function_call', 'spawn_agent', 'multi_agent_v1'], ['custom_tool_call', 'apply_patch', undefined], ['custom_tool_call', 'note', 'multi_agent_v1'], ['function_call', 'exec_command', undefined],
    ])
    const completed = events.at(-1)
    expect(completed.type).toBe('response.completed')
    expect(completed.response.output).toMatchObject(EXPECTED_ITEMS)
    expect(completed.response.output.map((item: any) => item.id)).toEqual(['fc_req123_0', 'ctc_req123_1', 'ctc_req123_2', 'fc_req123_3'])
  })

  for (const format of ['anthropic-messages', 'openai-chat'] as const) {
    it(`${format}: responses.stream() and responses.create() get function_call (with namespace) and custom_tool_call items`, async () => {
      const sdk = client(format)
      const stream = sdk.responses.stream(codexRequest())
      const inputDeltas: string[] = []
      stream.on('response.custom_tool_call_input.delta', (event) => inputDeltas.push(event.delta))
      const final = await stream.finalResponse()
      expect(final.status).toBe('completed')
      expect(final.output).toMatchObject(EXPECTED_ITEMS)
      expect(inputDeltas.join('')).toBe(PATCH + 'remember "this"')
      for (const name of offeredNames(upstreamBodies[0]!.body, format)) expect(name).toMatch(ANTHROPIC_NAME)

      const whole = await sdk.responses.create({ ...codexRequest(), stream: false })
      expectSdkResponse(whole)
      expect(whole.output).toMatchObject(EXPECTED_ITEMS)

      // The next turn sends the items back with their outputs: they reach the upstream under the flattened names.
      const outputs: ResponseInputItem[] = final.output.map((item: any) => item.type === 'custom_tool_call'
        ? { type: 'custom_tool_call_output', call_id: item.call_id, output: 'done' }
        : { type: 'function_call_output', call_id: item.call_id, output: 'ok' })
      const next = translateRequest({ ...codexRequest(), input: [...codexRequest().input, ...(final.output as ResponseInputItem[]), ...outputs] }, 'openai-responses', 'anthropic-messages') as any
      const [assistant, results] = next.messages.slice(-2)
      expect(assistant.content.map((b: any) => [b.name, b.input])).toEqual([
        ['multi_agent_v1__spawn_agent', { message: 'look around' }], ['apply_patch', { input: PATCH }],
        ['multi_agent_v1__note', { input: 'remember "this"' }], ['exec_command', { cmd: 'ls' }],
      ])
      expect(results.content.map((b: any) => b.tool_use_id)).toEqual(['call_1', 'call_2', 'call_3', 'call_4'])
    })
  }

  it('without the client request, a call is a plain function_call under the name the model used', () => {
    const out = translateResponse(anthropicMessage([{ id: 'c', name: 'multi_agent_v1__spawn_agent', args: {} }]), 'anthropic-messages', 'openai-responses', INFO) as any
    expect(out.output).toEqual([{ id: 'fc_req123_0', type: 'function_call', status: 'completed', arguments: '{}', call_id: 'c', name: 'multi_agent_v1__spawn_agent' }])
  })
})
