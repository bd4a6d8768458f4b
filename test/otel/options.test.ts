/** otel() options: validated at config load, shown without secrets, endpoint completed to the traces path. */
import { expect, it } from 'vitest'
import { otel } from '../../plugins/otel/index.ts'
import { tracesUrl } from '../../plugins/otel/options.ts'

it('refuses an unknown or ill-typed option, naming it', () => {
  expect(() => otel({ endpiont: 'http://x' } as any)).toThrow(/endpiont/)
  expect(() => otel({ sampleRate: 2 })).toThrow(/sampleRate/)
  expect(() => otel({ endpoint: 'not a url' })).toThrow(/endpoint/)
})

it('shows header values and URL passwords redacted', () => {
  const plugin = otel({ endpoint: 'https://user:hunter2@collector.example:4318', headers: { 'x-honeycomb-team': 'abc123secret' } })
  const shown = JSON.stringify(plugin.options)
  expect(shown).not.toContain('abc123secret')
  expect(shown).not.toContain('hunter2')
  expect(plugin.options!.headers).toEqual({ 'x-honeycomb-team': '[redacted]' })
  expect(plugin.options!.captureContent).toBe(false)
})

it('appends /v1/traces to a base endpoint, keeps a full traces URL', () => {
  expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces')
  expect(tracesUrl('http://collector:4318/otlp/')).toBe('http://collector:4318/otlp/v1/traces')
  expect(tracesUrl('http://collector:4318/v1/traces')).toBe('http://collector:4318/v1/traces')
  expect(tracesUrl(undefined)).toBeUndefined()
})

it('names providers by the conventions\' values: by host, then by plugin name, else the Sluice name', async () => {
  const { providerNameOf, operationOf } = await import('../../plugins/otel/semconv.ts')
  expect(providerNameOf('openai', 'api.openai.com')).toBe('openai')
  expect(providerNameOf('work', 'myco.openai.azure.com')).toBe('azure.ai.openai')
  expect(providerNameOf('claude', 'api.anthropic.com')).toBe('anthropic')
  expect(providerNameOf('gemini', '127.0.0.1')).toBe('gcp.gemini')
  expect(providerNameOf('groq', 'api.groq.com')).toBe('groq')
  expect(providerNameOf('ollama', '127.0.0.1')).toBe('ollama')
  expect(operationOf('anthropic-messages')).toBe('chat')
  expect(operationOf('gemini')).toBe('generate_content')
  expect(operationOf('openai-embeddings')).toBe('embeddings')
})
