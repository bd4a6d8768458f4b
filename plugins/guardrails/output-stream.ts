/**
 * The output phase on the neutral view's deltas (a `stream` hook's `delta`/`flush` handlers), for streamed and
 * non-stream replies alike. The reply's text, its reasoning and each tool call's arguments are separate
 * channels, each through its own sliding window; a channel ends (and its window is checked as final) when
 * another begins or the content ends. `start` and `usage` deltas pass at once: Gemini reports usage with every
 * chunk, and ending the window there would cut matches in two.
 *
 * A block throws from the handler: the core ends the response with an error in the client's format, and what
 * the window held never leaves.
 */
import type { RequestContext, StreamDelta, StreamHandlers } from '../../core/index.ts'
import { JsonOutput, checksJson } from './json-output.ts'
import { TextWindow } from './scanner.ts'
import { blockedError } from './decisions.ts'
import { sinkFor, type Env, type GuardState } from './state.ts'

type ContentDelta = Extract<StreamDelta, { type: 'text' | 'thinking' | 'tool_call_delta' }>

/** The most reply text kept for the checks that judge it afterwards. */
export const REPLY_LIMIT = 1_000_000

function channelOf(delta: ContentDelta): string {
  return delta.type === 'tool_call_delta' ? `tool:${delta.index}` : delta.type
}

function contentOf(delta: ContentDelta): string {
  return delta.type === 'tool_call_delta' ? delta.arguments : delta.text
}

function withContent(delta: ContentDelta, content: string): ContentDelta {
  return delta.type === 'tool_call_delta' ? { ...delta, arguments: content } : { ...delta, text: content }
}

function jsonOf(ctx: RequestContext, state: GuardState): JsonOutput | undefined {
  const rule = state.set.output!.json[0]
  if (!rule) return undefined
  const format = ctx.input().responseFormat
  return checksJson(format) ? new JsonOutput(rule.rule, rule.action, format, rule.maxChars) : undefined
}

export function outputHandlers(ctx: RequestContext, state: GuardState, env: Env): StreamHandlers | undefined {
  const rules = state.set.output!
  const sink = sinkFor(state, 'output')
  const json = jsonOf(ctx, state)
  const scans = rules.detectors.length > 0
  const handlers: StreamHandlers = {}

  if (rules.after.length > 0) {
    let kept = 0
    const reply: string[] = (state.reply = [])
    handlers.observe = (delta) => {
      if (delta.type !== 'text' || kept >= REPLY_LIMIT) return
      reply.push(delta.text.slice(0, REPLY_LIMIT - kept))
      kept += delta.text.length
    }
  }
  if (!scans && !json) return handlers.observe ? handlers : undefined

  let open: { key: string; template: ContentDelta; window: TextWindow } | undefined

  /** Released content of a channel as deltas; reply text goes through the JSON rule. */
  const emit = (template: ContentDelta, content: string): StreamDelta[] => {
    if (json && template.type === 'text') {
      const out = json.add(content)
      if (out === undefined) {
        state.decisions.note(json.rule, 'output', 'block')
        throw blockedError(json.rule, 'output', 'the output is longer than the rule validates')
      }
      content = out
    }
    return content ? [withContent(template, content)] : []
  }

  const close = (): StreamDelta[] => {
    if (!open) return []
    const { template, window } = open
    open = undefined
    return emit(template, window.end())
  }

  const content = (delta: ContentDelta): StreamDelta[] => {
    const key = channelOf(delta)
    const out = open && open.key !== key ? close() : []
    if (!scans) return [...out, ...emit(delta, contentOf(delta))]
    open ??= { key, template: delta, window: new TextWindow(rules.detectors, sink, env.replacement) }
    out.push(...emit(delta, open.window.push(contentOf(delta))))
    return out
  }

  const judgeJson = (): StreamDelta[] => {
    if (!json) return []
    const { problem, held } = json.finish()
    if (problem) {
      state.decisions.note(json.rule, 'output', json.action)
      if (json.action === 'block') throw blockedError(json.rule, 'output', problem)
    }
    return held ? [{ type: 'text', text: held }] : []
  }

  handlers.delta = (delta) => {
    switch (delta.type) {
      case 'text':
      case 'thinking':
      case 'tool_call_delta': {
        const out = content(delta)
        return out.length === 1 ? out[0]! : out.length > 0 ? out : null
      }
      case 'start':
      case 'usage':
        return undefined
      case 'error':
        open = undefined // the reply failed: what was held is dropped
        return undefined
      default: { // a tool call starts, a signature closes the reasoning, the reply finishes
        const out = close()
        return out.length > 0 ? [...out, delta] : undefined
      }
    }
  }
  handlers.flush = () => [...close(), ...judgeJson()]
  return handlers
}
