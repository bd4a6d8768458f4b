/**
 * The official openai SDK's Responses types, as key lists the tests can check at run time. Each list is typed
 * `Record<RequiredKeys<T>, true>`, so tsc fails when a list misses a key the SDK requires or names one it does
 * not: the lists cannot drift from the installed SDK.
 */
import { expect } from 'vitest'
import type {
  Response, ResponseCustomToolCall, ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText, ResponseReasoningItem,
  ResponseStreamEvent, ResponseUsage,
} from 'openai/resources/responses/responses'

type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T]
type KeyList<T> = Record<RequiredKeys<T>, true>
type EventOf<T extends ResponseStreamEvent['type']> = Extract<ResponseStreamEvent, { type: T }>

// `output_text` is not on the wire: the SDK adds it to every response it reads (addOutputText).
const RESPONSE: Record<Exclude<RequiredKeys<Response>, 'output_text'>, true> = {
  id: true, created_at: true, error: true, incomplete_details: true, instructions: true, metadata: true, model: true,
  object: true, output: true, parallel_tool_calls: true, temperature: true, tool_choice: true, tools: true, top_p: true,
}
const MESSAGE: KeyList<ResponseOutputMessage> = { id: true, content: true, role: true, status: true, type: true }
const OUTPUT_TEXT: KeyList<ResponseOutputText> = { annotations: true, text: true, type: true }
const FUNCTION_CALL: KeyList<ResponseFunctionToolCall> = { arguments: true, call_id: true, name: true, type: true }
const CUSTOM_TOOL_CALL: KeyList<ResponseCustomToolCall> = { call_id: true, input: true, name: true, type: true }
const REASONING: KeyList<ResponseReasoningItem> = { id: true, summary: true, type: true }
const USAGE: KeyList<ResponseUsage> = { input_tokens: true, input_tokens_details: true, output_tokens: true, output_tokens_details: true, total_tokens: true }
const INPUT_DETAILS: KeyList<ResponseUsage.InputTokensDetails> = { cached_tokens: true, cache_write_tokens: true }
const OUTPUT_DETAILS: KeyList<ResponseUsage.OutputTokensDetails> = { reasoning_tokens: true }

const lifecycle = { response: true, sequence_number: true, type: true } as const
const item = { item: true, output_index: true, sequence_number: true, type: true } as const
const part = { content_index: true, item_id: true, output_index: true, part: true, sequence_number: true, type: true } as const
const summaryPart = { item_id: true, output_index: true, part: true, sequence_number: true, summary_index: true, type: true } as const

/** The events the stream encoder writes, each with the keys the SDK requires of it. */
export const EVENT_KEYS: { [T in EmittedEvent]: KeyList<EventOf<T>> } = {
  'response.created': lifecycle,
  'response.in_progress': lifecycle,
  'response.completed': lifecycle,
  'response.incomplete': lifecycle,
  'response.failed': lifecycle,
  'response.output_item.added': item,
  'response.output_item.done': item,
  'response.content_part.added': part,
  'response.content_part.done': part,
  'response.output_text.delta': { content_index: true, delta: true, item_id: true, logprobs: true, output_index: true, sequence_number: true, type: true },
  'response.output_text.done': { content_index: true, item_id: true, logprobs: true, output_index: true, sequence_number: true, text: true, type: true },
  'response.function_call_arguments.delta': { delta: true, item_id: true, output_index: true, sequence_number: true, type: true },
  'response.function_call_arguments.done': { arguments: true, item_id: true, name: true, output_index: true, sequence_number: true, type: true },
  'response.custom_tool_call_input.delta': { delta: true, item_id: true, output_index: true, sequence_number: true, type: true },
  'response.custom_tool_call_input.done': { input: true, item_id: true, output_index: true, sequence_number: true, type: true },
  'response.reasoning_summary_part.added': summaryPart,
  'response.reasoning_summary_part.done': summaryPart,
  'response.reasoning_summary_text.delta': { delta: true, item_id: true, output_index: true, sequence_number: true, summary_index: true, type: true },
  'response.reasoning_summary_text.done': { item_id: true, output_index: true, sequence_number: true, summary_index: true, text: true, type: true },
  error: { code: true, message: true, param: true, sequence_number: true, type: true },
}
type EmittedEvent =
  | 'response.created' | 'response.in_progress' | 'response.completed' | 'response.incomplete' | 'response.failed'
  | 'response.output_item.added' | 'response.output_item.done' | 'response.content_part.added' | 'response.content_part.done'
  | 'response.output_text.delta' | 'response.output_text.done'
  | 'response.function_call_arguments.delta' | 'response.function_call_arguments.done'
  | 'response.custom_tool_call_input.delta' | 'response.custom_tool_call_input.done'
  | 'response.reasoning_summary_part.added' | 'response.reasoning_summary_part.done'
  | 'response.reasoning_summary_text.delta' | 'response.reasoning_summary_text.done'
  | 'error'

function expectKeys(value: unknown, keys: Record<string, true>, what: string) {
  expect(value, what).toBeTypeOf('object')
  for (const key of Object.keys(keys)) expect(value, `${what} lacks ${key}`).toHaveProperty(key)
}

function expectOutputItem(item: any) {
  switch (item.type) {
    case 'message':
      expectKeys(item, MESSAGE, 'message item')
      for (const part of item.content) if (part.type === 'output_text') expectKeys(part, OUTPUT_TEXT, 'output_text part')
      return
    case 'function_call': return expectKeys(item, FUNCTION_CALL, 'function_call item')
    case 'custom_tool_call': return expectKeys(item, CUSTOM_TOOL_CALL, 'custom_tool_call item')
    case 'reasoning': return expectKeys(item, REASONING, 'reasoning item')
    default: throw new Error(`unexpected output item ${item.type}`)
  }
}

/** A response object carries every key the SDK's `Response` requires, down to its items and usage. */
export function expectSdkResponse(response: any) {
  expectKeys(response, RESPONSE, 'response')
  expect(response.object).toBe('response')
  response.output.forEach(expectOutputItem)
  if (response.usage) {
    expectKeys(response.usage, USAGE, 'usage')
    expectKeys(response.usage.input_tokens_details, INPUT_DETAILS, 'usage.input_tokens_details')
    expectKeys(response.usage.output_tokens_details, OUTPUT_DETAILS, 'usage.output_tokens_details')
  }
}

/** Every event is one the SDK knows, with its required keys, numbered 0, 1, 2, ... and named by its type. */
export function expectSdkEvents(frames: Array<{ event?: string; data: string }>) {
  frames.forEach((frame, i) => {
    const event = JSON.parse(frame.data)
    expect(frame.event).toBe(event.type)
    expect(event.sequence_number).toBe(i)
    const keys = (EVENT_KEYS as Record<string, Record<string, true>>)[event.type]
    expect(keys, `unknown event ${event.type}`).toBeDefined()
    expectKeys(event, keys!, event.type)
    if (event.response) expectSdkResponse(event.response)
    if (event.item) expectOutputItem(event.item)
  })
}
