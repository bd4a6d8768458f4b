/** Secrets never appear in a log line, whatever a plugin logs. */
import { describe, expect, it } from 'vitest'
import { redact } from '../../core/logger.ts'
import { redactOptions } from '../../core/redact.ts'

describe('redact', () => {
  it.each([
    ['Authorization: Bearer sk-live-abcdefghijklmnop', 'sk-live-abcdefghijklmnop'],
    ['{"x-api-key":"sk-ant-api03-abcdefghijkl"}', 'sk-ant-api03-abcdefghijkl'],
    ['calling with apiKey=supersecretvalue123', 'supersecretvalue123'],
    ['key sk-sluice-abc123def456-ZZZZZZZZZZZZZZZZ in a message', 'ZZZZZZZZZZZZZZZZ'],
    ['gemini key AIzaSyA1234567890abcdefghijklmn', 'AIzaSyA1234567890abcdefghijklmn'],
  ])('removes the secret from %s', (line, secret) => {
    expect(redact(line)).not.toContain(secret)
    expect(redact(line)).toContain('[redacted]')
  })

  it('leaves ordinary lines alone', () => {
    expect(redact('200 openai-chat echo/x → echo/x 5ms')).toBe('200 openai-chat echo/x → echo/x 5ms')
  })

  it('hides secret-looking options shown by `sluice check`', () => {
    expect(redactOptions({ name: 'openai', apiKey: 'sk-1', headers: { authorization: 'Bearer x', 'x-y': 'ok' } }))
      .toEqual({ name: 'openai', apiKey: '[redacted]', headers: { authorization: '[redacted]', 'x-y': 'ok' } })
    expect(redactOptions({ store: 'redis://:hunter2@127.0.0.1:6379', db: 'postgres://me:pw@db/x' }))
      .toEqual({ store: 'redis://:[redacted]@127.0.0.1:6379', db: 'postgres://me:[redacted]@db/x' })
    expect(redactOptions({ targets: [{ name: 'a', apiKey: 'sk-1' }], urls: ['redis://u:p@h'] }))
      .toEqual({ targets: [{ name: 'a', apiKey: '[redacted]' }], urls: ['redis://u:[redacted]@h'] })
  })
})
