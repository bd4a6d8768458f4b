/**
 * The output phase for checks that can only judge a whole reply and may refuse or change it — the operator's
 * functions and model verdicts with `block` or `redact`. In a `call` hook (the stream handlers cannot wait for
 * a promise) the reply is read to its end, checked, and handed on as a finished answer (`output`), which the
 * core streams to a streaming client as it would a cached one. So nothing of it leaves before the verdict: on a
 * stream, time to first token becomes the whole generation plus the check. The built-in detectors and the JSON
 * rule run here too, on the whole reply, so the verdict never sees what they removed.
 */
import { GatewayError, SSEParser, codecFor, collectDeltas, readOutput } from '../../core/index.ts'
import type { Attempt, CallNext, ProviderResponse, RequestContext, ResponseView, StreamDelta, WireFormat } from '../../core/index.ts'
import type { TranslateInfo } from '../../core/index.ts'
import { runChecks } from './async-checks.ts'
import { blockedError } from './decisions.ts'
import { checksJson, jsonProblem } from './json-output.ts'
import { Joined } from './joined.ts'
import { scanText } from './scanner.ts'
import { mergedSpans, settleOutcomes, sinkFor, stateOf, type Env, type GuardState } from './state.ts'

/** A raw upstream SSE stream decoded into deltas, to its end. */
async function decodeStream(stream: AsyncIterable<Uint8Array>, format: WireFormat, info: TranslateInfo): Promise<StreamDelta[]> {
  const codec = codecFor(format)
  const decode = codec.streamDecoder?.(info)
  if (!decode) throw new GatewayError(502, `cannot read a ${format} stream`, { type: 'api_error', upstream: true })
  const parser = new SSEParser()
  const text = new TextDecoder()
  const deltas: StreamDelta[] = []
  let complete = false
  const take = (events: ReturnType<SSEParser['push']>) => {
    for (const event of events) {
      if (codec.streamDone(event)) complete = true
      let decoded: StreamDelta[]
      try {
        decoded = decode(event)
      } catch {
        continue // not JSON: nothing to read
      }
      for (const delta of decoded) {
        if (delta.type === 'finish' || delta.type === 'done') complete = true
        deltas.push(delta)
      }
    }
  }
  for await (const chunk of stream) take(parser.push(text.decode(chunk, { stream: true })))
  take(parser.end())
  if (!complete) throw new GatewayError(502, 'the upstream stream ended before it was complete', { type: 'api_error', code: 'incomplete_stream', upstream: true })
  return deltas
}

async function wholeOutput(response: ProviderResponse, info: TranslateInfo): Promise<ResponseView> {
  if (response.output) return response.output
  if (response.deltas) {
    const deltas: StreamDelta[] = []
    for await (const delta of response.deltas) deltas.push(delta)
    return collectDeltas(deltas)
  }
  if (response.stream) return collectDeltas(await decodeStream(response.stream, response.format, info))
  return readOutput(response, info)
}

const textOf = (view: ResponseView) => view.content.flatMap((part) => (part.type === 'text' ? [part.text] : []))

/** The reply checked whole: built-in detectors on every part, the JSON rule, then the awaited checks. */
async function checkWhole(view: ResponseView, ctx: RequestContext, state: GuardState, env: Env): Promise<ResponseView> {
  const rules = state.set.output!
  const sink = sinkFor(state, 'output')
  let content = view.content.map((part) => {
    if (part.type === 'tool_call') return { ...part, arguments: scanText(part.arguments, rules.detectors, sink, env.replacement) }
    return { ...part, text: scanText(part.text, rules.detectors, sink, env.replacement) }
  })
  const json = rules.json[0]
  const format = json && ctx.input().responseFormat
  if (json && checksJson(format)) {
    const problem = jsonProblem(textOf({ ...view, content }).join(''), format, json.maxChars)
    if (problem) {
      state.decisions.note(json.rule, 'output', json.action)
      if (json.action === 'block') throw blockedError(json.rule, 'output', problem)
    }
  }
  if (rules.hold.length > 0) {
    const joined = new Joined(textOf({ ...view, content }))
    const redactions = settleOutcomes(await runChecks(rules.hold, joined.text, 'output', ctx, env.clock), 'output', state, env)
    if (redactions.length > 0) {
      const parts = joined.redact(mergedSpans(redactions), env.replacement(redactions[0]!.rule))
      let i = 0
      content = content.map((part) => (part.type === 'text' ? { ...part, text: parts[i++]! } : part))
    }
  }
  if (rules.after.length > 0) state.reply = textOf({ ...view, content })
  return { ...view, content }
}

/** The `call` hook: holds the reply for its awaited checks, when the request's rule set has any. */
export function holdOutput(env: Env) {
  return async (ctx: RequestContext, attempt: Attempt, next: CallNext): Promise<ProviderResponse> => {
    const state = stateOf(ctx)
    if (!state?.set.output?.hold.length || codecFor(ctx.api).kind !== 'chat') return next(attempt)
    const response = await next(attempt)
    const info: TranslateInfo = { model: ctx.model, id: ctx.id, request: ctx.body }
    const output = await checkWhole(await wholeOutput(response, info), ctx, state, env)
    state.outputChecked = true
    return { status: response.status, headers: response.headers, format: response.format, output }
  }
}
