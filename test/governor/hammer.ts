/**
 * Concurrent load from the official `openai` client (maxRetries: 0, so the SDK never hides a 429) against
 * several gateways at once, for a bounded time; every outcome is kept with the headers the client saw.
 */
import OpenAI from 'openai'

export interface Outcome {
  status: number
  headers: Headers
  /** performance.now() when the answer arrived. */
  at: number
  /** The OpenAI-shape `error` object of a refusal. */
  error?: { message?: string; type?: string; code?: string | null }
}

export function clientFor(url: string, apiKey = 'no-key'): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 10_000 })
}

export async function chatOnce(client: OpenAI, model = 'echo/m'): Promise<Outcome> {
  try {
    const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'ping' }] }).withResponse()
    return { status: response.status, headers: response.headers, at: performance.now() }
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      return { status: error.status, headers: error.headers ?? new Headers(), at: performance.now(), error: error.error as Outcome['error'] }
    }
    throw error
  }
}

export interface HammerResult {
  outcomes: Outcome[]
  /** From the first request sent to the last answer received (ms): every decision happened inside it. */
  spanMs: number
}

/**
 * `workers` concurrent request loops per client, together sending `total` requests, but none once `windowMs`
 * has passed since the start.
 */
export async function hammer(clients: OpenAI[], { workers, total, windowMs }: { workers: number; total: number; windowMs: number }): Promise<HammerResult> {
  const outcomes: Outcome[] = []
  const start = performance.now()
  let sent = 0
  const loop = async (client: OpenAI) => {
    while (sent < total && performance.now() - start < windowMs) {
      sent++
      outcomes.push(await chatOnce(client))
    }
  }
  await Promise.all(clients.flatMap((client) => Array.from({ length: workers }, () => loop(client))))
  return { outcomes, spanMs: performance.now() - start }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
