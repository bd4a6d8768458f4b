/** Shared pieces of the responses() suites: the official SDK on an in-process gateway, a clock to move, readers. */
import OpenAI from 'openai'
import { expect } from 'vitest'
import type { Clock } from '../../core/index.ts'
import type { TestGateway } from '../../testing/index.ts'

/** The official SDK, answered in process by `gateway` (no retries: a test sees the first answer). */
export function sdkFor(gateway: TestGateway, apiKey = 'unused'): OpenAI {
  return new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, fetch: gateway.fetch, maxRetries: 0 })
}

/** Time moves only when the test says so; sleeping is instant (and advances it). */
export class ManualClock implements Clock {
  time = Date.UTC(2026, 0, 1)
  now = () => this.time
  random = () => 0.5
  sleep = async (ms: number) => { this.time += ms }
  advance(ms: number) { this.time += ms }
}

/** `role: text` for every text an upstream received, whatever its format (chat strings or parts, Anthropic blocks). */
export function upstreamTexts(body: Record<string, any>): string[] {
  const texts: string[] = []
  for (const message of body.messages ?? []) {
    if (typeof message.content === 'string') texts.push(`${message.role}: ${message.content}`)
    else for (const part of message.content ?? []) if (typeof part.text === 'string') texts.push(`${message.role}: ${part.text}`)
  }
  return texts
}

/** The error an SDK call rejected with (fails the test when it resolved). */
export async function sdkError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAI.APIError)
    return error as InstanceType<typeof OpenAI.APIError>
  }
  throw new Error('expected the call to fail')
}

/** The error body OpenAI sends for an unknown `previous_response_id`. */
export function previousNotFoundBody(id: string) {
  return {
    error: {
      message: `Previous response with id '${id}' not found.`,
      type: 'invalid_request_error',
      param: 'previous_response_id',
      code: 'previous_response_not_found',
    },
  }
}
