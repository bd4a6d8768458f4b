// Four small plugins written as a user would from the README, each switched on per request by the
// `x-test-plugin` header, in front of the OpenAI and Anthropic mock upstreams (URLs from the environment).
import { definePlugin, defineGatewayConfig } from 'sluice'
import type { RequestContext } from 'sluice'
import { anthropic, openai } from 'sluice/plugins/providers'

const on = (ctx: RequestContext, name: string) => ctx.request.headers.get('x-test-plugin') === name

/** Replaces `word` in every string of a JSON value, in place. */
function scrub(value: any, word: string): void {
  if (!value || typeof value !== 'object') return
  for (const key of Object.keys(value)) {
    if (typeof value[key] === 'string') value[key] = value[key].replaceAll(word, '[gone]')
    else scrub(value[key], word)
  }
}

// 1. A header set from the stream hook.
const stamp = definePlugin(() => ({
  name: 'stamp',
  hooks: {
    stream(ctx) {
      if (on(ctx, 'stamp')) ctx.responseHeaders.set('x-stamp', ctx.stream ? 'streamed' : 'whole')
    },
  },
}))

// 2. A call hook that edits the upstream's body in place.
const bodyRedactor = definePlugin(() => ({
  name: 'body-redactor',
  hooks: {
    async call(ctx, attempt, next) {
      const response = await next(attempt)
      if (on(ctx, 'body-redactor')) scrub(response.body, 'hunter2')
      return response
    },
  },
}))

// 3. A raw event transform that returns a copy with new data: it shouts every text delta of the client's format.
const shouter = definePlugin(() => ({
  name: 'shouter',
  hooks: {
    stream(ctx) {
      if (!on(ctx, 'shouter')) return
      return (event) => {
        const json = event.json
        const delta = json?.choices?.[0]?.delta ?? (json?.delta?.type === 'text_delta' ? json.delta : undefined)
        const key = typeof delta?.content === 'string' ? 'content' : typeof delta?.text === 'string' ? 'text' : undefined
        if (!key) return event
        delta[key] = delta[key].toUpperCase()
        return { ...event, data: JSON.stringify(json) }
      }
    },
  },
}))

// 4. A redaction on the neutral view: one plugin for every client and upstream format. It holds back the last
// few characters of text (a word may be split across deltas) and lets them go when the reply ends.
const deltaRedactor = definePlugin(() => ({
  name: 'delta-redactor',
  hooks: {
    stream(ctx) {
      if (!on(ctx, 'delta-redactor')) return
      const word = 'swordfish'
      let held = ''
      return {
        delta(delta) {
          if (delta.type !== 'text') return
          held = (held + delta.text).replaceAll(word, '[redacted]')
          const out = held.slice(0, Math.max(0, held.length - (word.length - 1)))
          held = held.slice(out.length)
          return out ? { ...delta, text: out } : null
        },
        flush: () => (held ? [{ type: 'text' as const, text: held }] : []),
      }
    },
  },
}))

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  plugins: [
    openai({ apiKey: 'sk-test-openai-upstream', baseURL: process.env.MOCK_OPENAI_URL! }),
    anthropic({ apiKey: 'test-anthropic-key', baseURL: process.env.MOCK_ANTHROPIC_URL! }),
    stamp(), bodyRedactor(), shouter(), deltaRedactor(),
  ],
})
