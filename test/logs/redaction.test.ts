/**
 * Secrets never reach the log: the virtual key the request presented, `sk-…` strings and key-like values are
 * redacted from prompts and answers (streamed or not) before the entry is queued, so neither the database file,
 * its search index nor a spill holds them.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redactor } from '../../plugins/logs/redact.ts'
import { startLogsRig, uniqueWord, type LogsRig } from './helpers.ts'

const OPENAI_KEY = 'sk-proj-Zq8xW2vB7nM4kL0pR5tY9uI3oA6sD1fG'
const ANTHROPIC_KEY = 'sk-ant-api03-Hh7Jj2Kk9Ll4Mm1Nn6Bb3Vv8Cc5Xx0Zz-AAAA'

describe('the redactor', () => {
  const redact = redactor([/internal-[0-9]{4}/g], 'my-own-gateway-key-123')
  it.each([
    [`use ${OPENAI_KEY} now`, 'use [redacted] now'],
    [`${ANTHROPIC_KEY}`, '[redacted]'],
    ['header Authorization: Bearer abcdefghijklmnop.qrs', 'header Authorization: Bearer [redacted]'],
    ['postgres://app:s3cret@db.internal:5432/x', 'postgres://app:[redacted]@db.internal:5432/x'],
    ['{"api_key": "zz-very-secret-value", "city": "Paris"}', '{"api_key": "[redacted]", "city": "Paris"}'],
    ['password=hunter2x and more', 'password=[redacted] and more'],
    ['AKIAIOSFODNN7EXAMPLE is aws', '[redacted] is aws'],
    ['the key my-own-gateway-key-123 leaked', 'the key [redacted] leaked'],
    ['ticket internal-4242 done', 'ticket [redacted] done'],
    ['short sk-abc12345 key', 'short [redacted] key'],
    ['{"adminKey":"abcd-1234-efgh"}', '{"adminKey":"[redacted]"}'],
  ])('%s', (input, output) => {
    expect(redact(input)).toBe(output)
  })
  it('leaves ordinary text alone', () => {
    for (const text of ['It used 1200 tokens: fine.', 'max_tokens=512', 'ask-me-anything is a skill', 'The secret of a good soup is time.']) {
      expect(redact(text)).toBe(text)
    }
  })
})

describe('redaction in logged requests', () => {
  let rig: LogsRig
  beforeAll(async () => { rig = await startLogsRig(() => ({ content: true })) })
  afterAll(() => rig?.close())

  const secretsOf = () => [rig.key, OPENAI_KEY, ANTHROPIC_KEY, rig.key.slice('sk-sluice-'.length)]

  function expectClean(text: string) {
    for (const secret of secretsOf()) expect(text).not.toContain(secret)
  }

  it('the presented virtual key and sk-… strings in prompt and answer (non-stream and stream) are redacted', async () => {
    const word = uniqueWord('redact')
    const prompt = `${word}: my key is ${rig.key}, and also ${OPENAI_KEY} and ${ANTHROPIC_KEY}`
    const plain = await rig.client.chat.completions.create({ model: 'a/m', messages: [{ role: 'user', content: prompt }] }).withResponse()
    expect(plain.data.choices[0]!.message.content).toContain(OPENAI_KEY) // the client gets its answer unchanged
    const streamed = await rig.client.chat.completions.create({ model: 'a/m', stream: true, messages: [{ role: 'user', content: prompt }] }).withResponse()
    let text = ''
    for await (const chunk of streamed.data) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toContain(rig.key)

    for (const response of [plain.response, streamed.response]) {
      const entry = await rig.entry(response.headers.get('x-request-id')!)
      const json = JSON.stringify(entry)
      expectClean(json)
      expect(entry.content.request.messages[0].text).toBe(`${word}: my key is [redacted], and also [redacted] and [redacted]`)
      expect(entry.content.response.text).toBe(`echo: ${word}: my key is [redacted], and also [redacted] and [redacted]`)
    }
    // Found by the words around the secrets, never by a secret.
    expect((await rig.admin(`/requests?q=${word}`)).body.data).toHaveLength(2)
    expect((await rig.admin(`/requests?q=${OPENAI_KEY.slice(8)}`)).body.data).toHaveLength(0)
    expect((await rig.admin(`/requests?q=${rig.key.slice(-20)}`)).body.data).toHaveLength(0)
  })

  it('key-like values in tool-call arguments are redacted', async () => {
    const word = uniqueWord('toolsecret')
    const { response } = await rig.client.chat.completions.create({
      model: 'a/m',
      messages: [{ role: 'user', content: `${word} [call lookup {"api_key":"zzzz-secret-value-123","q":"${word}"}]` }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    }).withResponse()
    const entry = await rig.entry(response.headers.get('x-request-id')!)
    expect(entry.content.response.toolCalls).toHaveLength(1)
    expect(entry.content.response.toolCalls[0].arguments).toContain('"api_key":"[redacted]"')
    expect(entry.content.response.toolCalls[0].arguments).toContain(word)
    expect(JSON.stringify(entry)).not.toContain('zzzz-secret-value-123')
  })

  it('neither the database files nor its search index hold a secret', async () => {
    const files = readdirSync(rig.dir).filter((name) => name.startsWith('logs'))
    expect(files).toContain('logs.db')
    let all = ''
    for (const name of files) {
      const bytes = readFileSync(join(rig.dir, name)).toString('latin1')
      expectClean(bytes)
      expect(bytes).not.toContain('zzzz-secret-value-123')
      all += bytes
    }
    expect(all).toContain('[redacted]') // the entries are in these files: the check above looked at them
  })
})
