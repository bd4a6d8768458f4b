/**
 * Azure OpenAI and an OpenAI-compatible preset against the OpenAI mock: the deployment path, api-version and
 * api-key header Azure needs, the preset's base URL and bearer key; and each provider's option validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { startProviderRig, type ProviderRig } from './setup.ts'
import { anthropic, azure, gemini, groq, ollama, openrouter, presets, vllm } from './providers.ts'
import { ConfigError } from '../../core/errors.ts'

let rig: ProviderRig
let client: OpenAI

beforeAll(async () => {
  rig = await startProviderRig()
  client = new OpenAI({ apiKey: 'client-key', baseURL: `${rig.gateway.url}/v1`, maxRetries: 0 })
})
afterAll(async () => {
  await rig?.close()
})

describe('azure', () => {
  const sentToAzure = () => rig.azureFront.requests.at(-1)!

  it('chat goes to the mapped deployment with api-version and the api-key header', async () => {
    const out = await client.chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'hello azure' }] })
    expect(out.choices[0]!.message.content).toBe('echo: hello azure')
    const sent = sentToAzure()
    expect(sent.url).toBe('/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21')
    expect(sent.headers['api-key']).toBe('azure-test-key')
    expect(sent.headers.authorization).toBeUndefined()
  })

  it('an unmapped model is its own deployment', async () => {
    await client.chat.completions.create({ model: 'azure/my-deployment', messages: [{ role: 'user', content: 'hi' }] })
    expect(sentToAzure().url).toBe('/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21')
  })

  it('streams, with usage only when asked', async () => {
    const final = await client.chat.completions.stream({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'one two' }], stream_options: { include_usage: true } }).finalChatCompletion()
    expect(final.choices[0]!.message.content).toBe('echo: one two')
    expect(final.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 3 })
  })

  it('embeddings go to the embeddings deployment', async () => {
    const result = await client.embeddings.create({ model: 'azure/text-embedding-3-small', input: ['a b', 'c'], encoding_format: 'float' })
    expect(result.data).toHaveLength(2)
    expect(result.usage.prompt_tokens).toBe(3)
    expect(sentToAzure().url).toBe('/openai/deployments/embed-prod/embeddings?api-version=2024-10-21')
  })

  it('serves the Anthropic client too (translated)', async () => {
    const anthropicClient = new Anthropic({ baseURL: rig.gateway.url, apiKey: 'x', maxRetries: 0 })
    const message = await anthropicClient.messages.stream({ model: 'azure/gpt-4o', max_tokens: 50, messages: [{ role: 'user', content: 'hey there' }] }).finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'echo: hey there' }])
    expect(message.usage).toMatchObject({ input_tokens: 2, output_tokens: 3 })
  })

  it('an upstream error keeps its status', async () => {
    const error: any = await client.chat.completions.create({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: '[error 429]' }] }).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
  })
})

describe('groq preset', () => {
  it('uses its base URL and a bearer key, and passes the body through', async () => {
    const out = await client.chat.completions.create({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'fast' }], ...({ vendor_extension: 1 } as object) })
    expect(out.choices[0]!.message.content).toBe('echo: fast')
    const sent = rig.openai.requests.at(-1)!
    expect(sent.path).toBe('/v1/chat/completions')
    expect(sent.headers.authorization).toBe('Bearer gsk-test-groq')
    expect(sent.body.model).toBe('llama-3.3-70b-versatile')
    expect(sent.body.vendor_extension).toBe(1)
  })
})

describe('options', () => {
  const configError = (make: () => unknown) => {
    try {
      make()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return (error as Error).message
    }
    throw new Error('expected a ConfigError')
  }

  it('a missing key names the variable to set', () => {
    expect(configError(() => anthropic({ apiKey: process.env.SLUICE_TEST_UNSET_VARIABLE }))).toBe('anthropic: option "apiKey": required — set ANTHROPIC_API_KEY')
    expect(configError(() => gemini({ apiKey: '' }))).toBe('gemini: option "apiKey": required — set GEMINI_API_KEY')
    expect(configError(() => azure({ resourceName: 'r' } as any))).toBe('azure: option "apiKey": required — set AZURE_OPENAI_API_KEY')
    expect(configError(() => groq({} as any))).toBe('groq: option "apiKey": required — set GROQ_API_KEY')
  })

  it('unknown options and bad values are refused with the key named', () => {
    expect(configError(() => gemini({ apiKey: 'k', region: 'eu' } as any))).toBe('gemini: unknown option "region"')
    expect(configError(() => anthropic({ apiKey: 'k', baseURL: 'not a url' }))).toMatch(/^anthropic: option "baseURL"/)
    expect(configError(() => openrouter({ apiKey: 'k', timeouts: { total: -1 } }))).toMatch(/^openrouter: option "timeouts.total"/)
  })

  it('azure wants exactly one of resourceName and baseURL', () => {
    expect(configError(() => azure({ apiKey: 'k' }))).toBe('azure: give exactly one of resourceName or baseURL')
    expect(configError(() => azure({ apiKey: 'k', resourceName: 'r', baseURL: 'http://x' }))).toBe('azure: give exactly one of resourceName or baseURL')
    expect(configError(() => azure({ apiKey: 'k', resourceName: 'bad name!' }))).toMatch(/resourceName/)
  })

  it('secrets are redacted from the options a plugin shows', () => {
    for (const plugin of [anthropic({ apiKey: 'sk-ant-secret' }), gemini({ apiKey: 'g-secret' }), azure({ apiKey: 'az-secret', resourceName: 'r' }), groq({ apiKey: 'gsk-secret' })]) {
      expect(JSON.stringify(plugin.options)).not.toMatch(/secret/)
    }
  })

  it('each preset has its name, default base URL, and a required key only when hosted', () => {
    expect(ollama().name).toBe('ollama')
    expect(ollama().options).toMatchObject({ baseURL: 'http://127.0.0.1:11434/v1' })
    expect(vllm({ baseURL: 'http://gpu-box:8000/v1', apiKey: 'k' }).options).toMatchObject({ baseURL: 'http://gpu-box:8000/v1' })
    expect(groq({ apiKey: 'k', name: 'groq-eu' }).name).toBe('groq-eu')
    const expected: Record<string, string> = {
      groq: 'https://api.groq.com/openai/v1', mistral: 'https://api.mistral.ai/v1', deepseek: 'https://api.deepseek.com/v1',
      xai: 'https://api.x.ai/v1', openrouter: 'https://openrouter.ai/api/v1', together: 'https://api.together.xyz/v1',
      fireworks: 'https://api.fireworks.ai/inference/v1', ollama: 'http://127.0.0.1:11434/v1', vllm: 'http://127.0.0.1:8000/v1',
      lmstudio: 'http://127.0.0.1:1234/v1',
    }
    expect(Object.keys(presets).sort()).toEqual(Object.keys(expected).sort())
    for (const [name, make] of Object.entries(presets)) {
      const plugin = (make as (o: object) => any)({ apiKey: 'k' })
      expect(plugin.name).toBe(name)
      expect(plugin.options.baseURL).toBe(expected[name])
    }
  })
})
