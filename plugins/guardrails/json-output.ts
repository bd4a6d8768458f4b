/**
 * The `json-schema` rule: a reply to a request that asked for JSON (`response_format`, Responses `text.format`,
 * Anthropic `output_config.format`) must parse, and match the schema when one was given. A JSON document can
 * only be judged whole, so with `block` the reply's text is held until it ends (on a stream the client gets it
 * all at once); with `flag` it flows and is judged at the end.
 */
import type { RequestView } from '../../core/index.ts'
import { validateJson } from './json-schema.ts'
import type { Action } from './detector.ts'

export type ResponseFormat = NonNullable<RequestView['responseFormat']>

/** Whether a request's response format is one the rule checks. */
export function checksJson(format: RequestView['responseFormat']): format is ResponseFormat {
  return format?.type === 'json_object' || (format?.type === 'json_schema' && format.schema !== undefined)
}

/** Why `text` is not what `format` asked for, or undefined when it is. */
export function jsonProblem(text: string, format: ResponseFormat, maxChars: number): string | undefined {
  if (text.length > maxChars) return `the output is longer than ${maxChars} characters, the most this rule validates`
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return 'the output is not valid JSON'
  }
  if (format.type === 'json_object') return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'the output is not a JSON object'
  return format.type === 'json_schema' ? validateJson(value, format.schema) : undefined
}

/** A reply's text on its way out, collected to be judged at its end. */
export class JsonOutput {
  #text = ''
  #overflow = false

  constructor(readonly rule: string, readonly action: Extract<Action, 'block' | 'flag'>, readonly format: ResponseFormat, readonly maxChars: number) {}

  /**
   * Takes released text: what goes out now ('' while a `block` rule holds the reply), or undefined when the reply
   * outgrew what the rule validates (a violation at once).
   */
  add(text: string): string | undefined {
    if (this.#overflow) return text // only a `flag` rule gets here
    if (this.#text.length + text.length > this.maxChars) {
      this.#overflow = true
      this.#text = ''
      return this.action === 'block' ? undefined : text
    }
    this.#text += text
    return this.action === 'block' ? '' : text
  }

  /** The reply has ended: its problem (if any), and the text still held. */
  finish(): { problem?: string; held: string } {
    const problem = this.#overflow ? `the output is longer than ${this.maxChars} characters, the most this rule validates` : jsonProblem(this.#text, this.format, this.maxChars)
    return { problem, held: this.action === 'block' ? this.#text : '' }
  }
}
