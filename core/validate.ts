/**
 * Client input checked at the edge, before any hook or provider sees it: what could otherwise reach a response
 * header, a log line, an upstream URL, or overflow the stack of the gateway's own JSON handling.
 */
import { GatewayError } from './errors.ts'

/** Deepest JSON nesting a request body may have. Tool schemas nest a few dozen levels at most. */
export const MAX_JSON_DEPTH = 128

export const MAX_MODEL_LENGTH = 256

// Letters, digits and the punctuation real model ids use (`accounts/x/models/y`, `anthropic.claude-v2:1`,
// `@cf/meta/llama`, `gpt-4o-2024-08-06`), in `/`-separated segments.
const MODEL_SEGMENT = /^[A-Za-z0-9_.:@+~-]+$/

/** Why `model` is not a name the gateway accepts, or undefined when it is fine. */
export function modelNameProblem(model: string): string | undefined {
  if (model.length > MAX_MODEL_LENGTH) return `is longer than ${MAX_MODEL_LENGTH} characters`
  for (const segment of model.split('/')) {
    if (segment === '') return 'has an empty path segment'
    if (segment === '.' || segment === '..') return 'has a "." or ".." path segment'
    if (!MODEL_SEGMENT.test(segment)) return 'holds characters a model name cannot have (letters, digits and . _ - : @ + ~ / only)'
  }
  return undefined
}

export function assertModelName(model: string, param = 'model'): void {
  const problem = modelNameProblem(model)
  if (problem) throw new GatewayError(400, `The model name ${problem}.`, { type: 'invalid_request_error', param, code: 'invalid_model' })
}

/**
 * Whether a JSON text nests deeper than `max`, found by one scan that skips string contents. A body shorter
 * than 2 × max characters cannot, so small bodies cost nothing.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  if (text.length <= 2 * max) return false
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      i = closingQuote(text, i)
      if (i < 0) return false // unterminated string: JSON.parse reports it
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return false
}

/** Index of the quote that closes the string opening at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let at = open
  for (;;) {
    at = text.indexOf('"', at + 1)
    if (at < 0) return -1
    let backslashes = 0
    for (let j = at - 1; text.charCodeAt(j) === 0x5c; j--) backslashes++
    if ((backslashes & 1) === 0) return at
  }
}
