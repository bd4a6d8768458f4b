// A plugin written from docs/plugins.md alone: it redacts a word from every assistant reply and sets a response
// header. Unchanged for OpenAI and Anthropic clients, stream and non-stream, same format and translated.
import { expect, it } from 'vitest'
import { definePlugin } from 'sluice'
import { createTestGateway, scriptedProvider } from 'sluice/testing'

const noSwordfish = definePlugin(() => ({
  name: 'no-swordfish',
  hooks: {
    stream(ctx) {
      ctx.responseHeaders.set('x-redacted', 'swordfish')
      return { delta: (d) => (d.type === 'text' ? { ...d, text: d.text.replaceAll('swordfish', '[redacted]') } : d) }
    },
  },
}))

it('redacts and stamps every reply, whatever the formats', async () => {
  const reply = { replies: [{ chunks: ['the password is ', 'swordfish', ', really'] }] }
  const gw = await createTestGateway({ plugins: [scriptedProvider({ name: 'oai', ...reply }), scriptedProvider({ name: 'ant', format: 'anthropic-messages', ...reply }), noSwordfish()] })
  for (const send of [gw.chat, gw.messages]) for (const model of ['oai/m', 'ant/m']) for (const stream of [false, true]) {
    const response = await send({ model, stream, max_tokens: 50, messages: [{ role: 'user', content: 'password?' }] })
    expect(response.headers.get('x-redacted')).toBe('swordfish')
    const text = await response.text()
    expect(text).toContain('[redacted]')
    expect(text).not.toContain('swordfish')
  }
  await gw.close()
})
