/**
 * Presets over `openaiCompatible()` for hosted and local servers that speak OpenAI's API: each fixes a name, a
 * base URL and whether a key is required. Everything else is `openaiCompatible`'s own options.
 */
import { definePlugin } from '../../../core/index.ts'
import { parseOptions, z } from '../../../core/index.ts'
import { requiredApiKey } from '../../../core/index.ts'
import { openaiCompatible, openaiCompatibleSchema, type OpenAICompatibleOptions } from '../openai-compatible/index.ts'

interface PresetSpec {
  /** Provider name and model prefix. */
  name: string
  baseURL: string
  /** The environment variable the key usually lives in (named in the error); omitted for keyless local servers. */
  keyEnv?: string
}

/** A preset's options: `openaiCompatible`'s, with `name` and `baseURL` defaulted and `apiKey` required for hosted APIs. */
function presetSchema(spec: PresetSpec) {
  return openaiCompatibleSchema.extend({
    name: openaiCompatibleSchema.shape.name.default(spec.name),
    baseURL: z.url().default(spec.baseURL),
    apiKey: spec.keyEnv ? requiredApiKey(spec.keyEnv) : z.string().optional(),
  })
}

export type PresetOptions = Omit<OpenAICompatibleOptions, 'name' | 'baseURL'> & { name?: string; baseURL?: string }
/** Options of a hosted preset: `apiKey` must be given (it may come from an unset variable; then start-up stops). */
export type HostedPresetOptions = PresetOptions & { apiKey: string | undefined }

function hosted(spec: PresetSpec & { keyEnv: string }) {
  const schema = presetSchema(spec)
  return definePlugin((input: HostedPresetOptions) => openaiCompatible(parseOptions(spec.name, schema, input)))
}

function local(spec: PresetSpec) {
  const schema = presetSchema(spec)
  return definePlugin((input: PresetOptions = {}) => openaiCompatible(parseOptions(spec.name, schema, input)))
}

export const groq = hosted({ name: 'groq', baseURL: 'https://api.groq.com/openai/v1', keyEnv: 'GROQ_API_KEY' })
export const mistral = hosted({ name: 'mistral', baseURL: 'https://api.mistral.ai/v1', keyEnv: 'MISTRAL_API_KEY' })
export const deepseek = hosted({ name: 'deepseek', baseURL: 'https://api.deepseek.com/v1', keyEnv: 'DEEPSEEK_API_KEY' })
export const xai = hosted({ name: 'xai', baseURL: 'https://api.x.ai/v1', keyEnv: 'XAI_API_KEY' })
export const openrouter = hosted({ name: 'openrouter', baseURL: 'https://openrouter.ai/api/v1', keyEnv: 'OPENROUTER_API_KEY' })
export const together = hosted({ name: 'together', baseURL: 'https://api.together.xyz/v1', keyEnv: 'TOGETHER_API_KEY' })
export const fireworks = hosted({ name: 'fireworks', baseURL: 'https://api.fireworks.ai/inference/v1', keyEnv: 'FIREWORKS_API_KEY' })
export const ollama = local({ name: 'ollama', baseURL: 'http://127.0.0.1:11434/v1' })
export const vllm = local({ name: 'vllm', baseURL: 'http://127.0.0.1:8000/v1' })
export const lmstudio = local({ name: 'lmstudio', baseURL: 'http://127.0.0.1:1234/v1' })
