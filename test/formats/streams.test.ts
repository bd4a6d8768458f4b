import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createStreamTranslator } from '../../core/formats/index.ts'
import type { StreamTranslator } from '../../core/formats/types.ts'
import type { SSEEvent } from '../../core/types.ts'
import { anthropicToolStream, geminiToolStream, openaiToolStream } from './fixtures.ts'
import { anthropicEvent, INFO, payloads, sse } from './helpers.ts'

function run(translator: StreamTranslator, events: SSEEvent[]) {
  const frames = events.flatMap((e) => translator.push(e))
  return { frames, closing: translator.end() }
}

/** Replays Anthropic frames the way the SDK's MessageStream accumulates them, checking the order rules. */
function accumulateAnthropic(frames: { event?: string; data: string }[]) {
  const names = frames.map((f) => f.event)
  expect(names[0]).toBe('message_start')
  expect(names.at(-1)).toBe('message_stop')
  let message: any
  let open: number | undefined
  const json: Record<number, string> = {}
  for (const frame of frames) {
    const e = JSON.parse(frame.data)
    expect(e.type).toBe(frame.event)
    switch (e.type) {
      case 'message_start': message = e.message; break
      case 'content_block_start':
        expect(open).toBeUndefined() // one block at a time
        expect(e.index).toBe(message.content.length)
        message.content.push(structuredClone(e.content_block))
        open = e.index
        break
      case 'content_block_delta': {
        const block = message.content[e.index]
        if (e.delta.type === 'text_delta') block.text += e.delta.text
        if (e.delta.type === 'input_json_delta') json[e.index] = (json[e.index] ?? '') + e.delta.partial_json
        if (e.delta.type === 'thinking_delta') block.thinking += e.delta.thinking
        break
      }
      case 'content_block_stop':
        expect(e.index).toBe(open)
        if (json[e.index] !== undefined) message.content[e.index].input = JSON.parse(json[e.index]!)
        open = undefined
        break
      case 'message_delta':
        message.stop_reason = e.delta.stop_reason
        Object.assign(message.usage, e.usage)
        break
    }
  }
  expect(open).toBeUndefined()
  return message
}

/** Replays OpenAI chunks the way the SDK's ChatCompletionStream accumulates them. */
function accumulateOpenAI(frames: { event?: string; data: string }[]) {
  expect(frames.at(-1)!.data).toBe('[DONE]')
  const message: any = { content: '', tool_calls: [] as any[] }
  let finish: string | null = null
  let usage: any
  for (const chunk of payloads(frames)) {
    expect(chunk.object).toBe('chat.completion.chunk')
    expect(chunk.id).toBe('chatcmpl-req123')
    if (chunk.usage) usage = chunk.usage
    for (const choice of chunk.choices) {
      if (choice.delta.role) message.role = choice.delta.role
      if (choice.delta.content) message.content += choice.delta.content
      for (const call of choice.delta.tool_calls ?? []) {
        const slot = (message.tool_calls[call.index] ??= { function: { name: '', arguments: '' } })
        if (call.id) slot.id = call.id
        if (call.type) slot.type = call.type
        if (call.function?.name) slot.function.name = call.function.name
        if (call.function?.arguments) slot.function.arguments += call.function.arguments
      }
      if (choice.finish_reason) finish = choice.finish_reason
    }
  }
  return { message, finish, usage }
}

describe('stream translation', () => {
  it('openai -> anthropic: text block then one tool_use block per call, arguments in order, closing frames', () => {
    const t = createStreamTranslator('openai-chat', 'anthropic-messages', INFO)
    const { frames, closing } = run(t, openaiToolStream())
    expect(t.upstreamDone).toBe(true)
    const message = accumulateAnthropic([...frames, ...closing])
    expect(message.id).toBe('msg_req123')
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking both.' },
      { type: 'tool_use', id: 'call_P', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_T', name: 'get_weather', input: { city: 'Tokyo' } },
    ])
    expect(message.stop_reason).toBe('tool_use')
    expect(message.usage).toEqual({ input_tokens: 16, output_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 64 })
    expect(closing.map((f) => f.event)).toEqual(['message_delta', 'message_stop'])
  })

  it('anthropic -> openai: role first, tool calls indexed 0 and 1, finish, usage-only chunk, [DONE]', () => {
    const t = createStreamTranslator('anthropic-messages', 'openai-chat', INFO)
    const { frames, closing } = run(t, anthropicToolStream())
    const all = [...frames, ...closing]
    const { message, finish, usage } = accumulateOpenAI(all)
    expect(payloads(all)[0].choices[0].delta).toEqual({ role: 'assistant', content: '' })
    expect(message.content).toBe('Checking both.')
    expect(message.tool_calls).toEqual([
      { id: 'toolu_P', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
      { id: 'toolu_T', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Tokyo"}' } },
    ])
    expect(finish).toBe('tool_calls')
    expect(closing.map((f) => f.data === '[DONE]' ? 'DONE' : JSON.parse(f.data).choices.length)).toEqual([0, 'DONE'])
    expect(usage).toEqual({ prompt_tokens: 130, completion_tokens: 89, total_tokens: 219, prompt_tokens_details: { cached_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 0 } })
  })

  it('gemini -> openai and -> anthropic: whole function calls become start + one argument delta each', () => {
    const openai = createStreamTranslator('gemini', 'openai-chat', INFO)
    const o = run(openai, geminiToolStream())
    const { message, finish, usage } = accumulateOpenAI([...o.frames, ...o.closing])
    expect(message.tool_calls.map((c: any) => [c.id, c.function.arguments])).toEqual([['call_req123_0', '{"city":"Paris"}'], ['call_req123_1', '{"city":"Tokyo"}']])
    expect(finish).toBe('tool_calls')
    expect(usage).toMatchObject({ prompt_tokens: 70, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 50 }, completion_tokens_details: { reasoning_tokens: 20 } })

    const anthropic = createStreamTranslator('gemini', 'anthropic-messages', INFO)
    const a = run(anthropic, geminiToolStream())
    const msg = accumulateAnthropic([...a.frames, ...a.closing])
    expect(msg.content.map((b: any) => b.type)).toEqual(['text', 'tool_use', 'tool_use'])
    expect(msg.stop_reason).toBe('tool_use')
    // Gemini's first chunk already tells the prompt size: message_start carries it.
    expect(JSON.parse(a.frames[0]!.data).message.usage.input_tokens).toBe(70)
    expect(anthropic.upstreamDone).toBe(true)
  })

  it('some OpenAI-compatible servers reuse index 0 for parallel calls: a new id is a new call', () => {
    const chunk = (delta: any, finish: string | null = null) => sse({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })
    const t = createStreamTranslator('openai-chat', 'anthropic-messages', INFO)
    const { frames, closing } = run(t, [
      chunk({ role: 'assistant' }),
      chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{"n":1}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'b', function: { name: 'g', arguments: '{"n":2}' } }] }),
      chunk({}, 'tool_calls'),
    ])
    const message = accumulateAnthropic([...frames, ...closing])
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'a', name: 'f', input: { n: 1 } },
      { type: 'tool_use', id: 'b', name: 'g', input: { n: 2 } },
    ])
  })

  it('anthropic thinking reaches an anthropic-format client from gemini thoughts, and is dropped for openai', () => {
    const events = [
      sse({ candidates: [{ content: { parts: [{ text: 'hmm', thought: true }], role: 'model' } }] }),
      sse({ candidates: [{ content: { parts: [{ text: 'Answer' }], role: 'model' }, finishReason: 'STOP' }] }),
    ]
    const a = run(createStreamTranslator('gemini', 'anthropic-messages', INFO), events)
    expect(accumulateAnthropic([...a.frames, ...a.closing]).content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: '' },
      { type: 'text', text: 'Answer' },
    ])
    const o = run(createStreamTranslator('gemini', 'openai-chat', INFO), events)
    expect(accumulateOpenAI([...o.frames, ...o.closing]).message.content).toBe('Answer')
  })

  it('end() without a finish still closes properly, and upstreamDone says the stream was cut', () => {
    const t = createStreamTranslator('anthropic-messages', 'openai-chat', INFO)
    run(t, anthropicToolStream().slice(0, 4))
    expect(t.upstreamDone).toBe(false)
    const a = createStreamTranslator('openai-chat', 'anthropic-messages', INFO)
    const { frames, closing } = run(a, openaiToolStream().slice(0, 3))
    expect(a.upstreamDone).toBe(false)
    expect(accumulateAnthropic([...frames, ...closing]).stop_reason).toBe('end_turn')
  })

  it('an upstream error event becomes the caller-format error, after which nothing more is written', () => {
    const t = createStreamTranslator('anthropic-messages', 'openai-chat', INFO)
    const frames = [
      ...t.push(anthropicToolStream()[0]!),
      ...t.push(anthropicEvent({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })),
    ]
    expect(frames.slice(-2)).toEqual([
      { data: JSON.stringify({ error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: null } }) },
      { data: '[DONE]' },
    ])
    expect(t.end()).toEqual([])
    expect(t.push(anthropicToolStream()[3]!)).toEqual([])

    const a = createStreamTranslator('openai-chat', 'anthropic-messages', INFO)
    const out = [...a.push(openaiToolStream()[0]!), ...a.push(sse({ error: { message: 'Rate limit reached', type: 'rate_limit_error', code: 'rate_limit_exceeded' } }))]
    expect(out.at(-1)).toEqual({ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate limit reached' } }) })
  })

  it('error() ends a stream that died midway in the caller format', () => {
    const o = createStreamTranslator('anthropic-messages', 'openai-chat', INFO)
    o.push(anthropicToolStream()[0]!)
    expect(o.error({ status: 502, message: 'upstream connection lost', type: 'api_error' })).toEqual([
      { data: JSON.stringify({ error: { message: 'upstream connection lost', type: 'api_error', param: null, code: null } }) },
      { data: '[DONE]' },
    ])
    expect(o.end()).toEqual([])
    const a = createStreamTranslator('gemini', 'anthropic-messages', INFO)
    expect(a.error({ status: 502, message: 'upstream connection lost', type: 'upstream_error' })).toEqual([
      { event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'upstream connection lost' } }) },
    ])
  })

  it('same format passes events through, reports completion and still writes error frames', () => {
    const t = createStreamTranslator('anthropic-messages', 'anthropic-messages', INFO)
    const events = anthropicToolStream()
    const out = events.flatMap((e) => t.push(e))
    expect(out.map((f) => f.data)).toEqual(events.map((e) => e.data))
    expect(t.upstreamDone).toBe(true)
    const o = createStreamTranslator('openai-chat', 'openai-chat', INFO)
    o.push(openaiToolStream()[0]!)
    expect(o.upstreamDone).toBe(false)
    expect(o.error({ status: 502, message: 'cut', type: 'api_error' }).at(-1)).toEqual({ data: '[DONE]' })
  })

  it('non-JSON junk in a stream is skipped, not thrown', () => {
    const t = createStreamTranslator('openai-chat', 'anthropic-messages', INFO)
    expect(t.push(sse(': keep-alive'))).toEqual([])
  })
})

describe('properties', () => {
  const textPieces = fc.array(fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }), { minLength: 1, maxLength: 30 })

  it('any text split into OpenAI deltas arrives whole and in order at an Anthropic client', () => {
    fc.assert(fc.property(textPieces, (parts) => {
      const t = createStreamTranslator('openai-chat', 'anthropic-messages', INFO)
      const events = [
        ...parts.map((p) => sse({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })),
        sse({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
        sse('[DONE]'),
      ]
      const { frames, closing } = run(t, events)
      const message = accumulateAnthropic([...frames, ...closing])
      expect(message.content).toEqual([{ type: 'text', text: parts.join('') }])
    }))
  })

  it('any text split into Anthropic or Gemini deltas arrives whole and in order at an OpenAI client', () => {
    fc.assert(fc.property(textPieces, fc.boolean(), (parts, fromGemini) => {
      const events = fromGemini
        ? parts.map((p, i) => sse({ candidates: [{ content: { parts: [{ text: p }], role: 'model' }, ...(i === parts.length - 1 ? { finishReason: 'STOP' } : {}) }] }))
        : [
          anthropicToolStream()[0]!,
          anthropicEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
          ...parts.map((p) => anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } })),
          anthropicEvent({ type: 'content_block_stop', index: 0 }),
          anthropicEvent({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } }),
          anthropicEvent({ type: 'message_stop' }),
        ]
      const t = createStreamTranslator(fromGemini ? 'gemini' : 'anthropic-messages', 'openai-chat', INFO)
      const { frames, closing } = run(t, events)
      const { message, finish } = accumulateOpenAI([...frames, ...closing])
      expect(message.content).toBe(parts.join(''))
      expect(finish).toBe('stop')
    }))
  })

  it('parallel tool-call arguments split anyhow keep their call, order and index both ways', () => {
    const call = fc.record({ name: fc.constantFrom('a', 'b', 'get_weather'), args: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.integer())) })
    fc.assert(fc.property(fc.array(call, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 7 }), (calls, size) => {
      const split = (s: string) => s.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? []
      // OpenAI upstream -> Anthropic client
      const openaiEvents = [sse({ id: 'c', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] })]
      calls.forEach((c, i) => {
        openaiEvents.push(sse({ id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: i, id: `call_${i}`, type: 'function', function: { name: c.name, arguments: '' } }] }, finish_reason: null }] }))
        for (const piece of split(JSON.stringify(c.args))) openaiEvents.push(sse({ id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: piece } }] }, finish_reason: null }] }))
      })
      openaiEvents.push(sse({ id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }))
      const toAnthropic = run(createStreamTranslator('openai-chat', 'anthropic-messages', INFO), openaiEvents)
      const message = accumulateAnthropic([...toAnthropic.frames, ...toAnthropic.closing])
      expect(message.content).toEqual(calls.map((c, i) => ({ type: 'tool_use', id: `call_${i}`, name: c.name, input: c.args })))

      // Anthropic upstream (a text block first, so block and call indexes differ) -> OpenAI client
      const anthropicEvents = [
        anthropicToolStream()[0]!,
        anthropicEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        anthropicEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } }),
        anthropicEvent({ type: 'content_block_stop', index: 0 }),
      ]
      calls.forEach((c, i) => {
        anthropicEvents.push(anthropicEvent({ type: 'content_block_start', index: i + 1, content_block: { type: 'tool_use', id: `toolu_${i}`, name: c.name, input: {} } }))
        for (const piece of split(JSON.stringify(c.args))) anthropicEvents.push(anthropicEvent({ type: 'content_block_delta', index: i + 1, delta: { type: 'input_json_delta', partial_json: piece } }))
        anthropicEvents.push(anthropicEvent({ type: 'content_block_stop', index: i + 1 }))
      })
      anthropicEvents.push(anthropicEvent({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }), anthropicEvent({ type: 'message_stop' }))
      const toOpenAI = run(createStreamTranslator('anthropic-messages', 'openai-chat', INFO), anthropicEvents)
      const { message: chat } = accumulateOpenAI([...toOpenAI.frames, ...toOpenAI.closing])
      expect(chat.tool_calls.map((c: any) => [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual(calls.map((c, i) => [`toolu_${i}`, c.name, c.args]))
    }))
  })
})
