export { echo, type EchoOptions } from './echo/index.ts'
export { openai, type OpenAIOptions } from './openai/index.ts'
export { openaiCompatible, type OpenAICompatibleOptions } from './openai-compatible/index.ts'
export { anthropic, type AnthropicOptions } from './anthropic/index.ts'
export { gemini, type GeminiOptions } from './gemini/index.ts'
export { azure, type AzureOptions } from './azure/index.ts'
export { bedrock, type BedrockOptions } from './bedrock/index.ts'
export { vertex, type VertexOptions } from './vertex/index.ts'
export {
  deepseek, fireworks, groq, lmstudio, mistral, ollama, openrouter, together, vllm, xai,
  type HostedPresetOptions, type PresetOptions,
} from './presets/index.ts'
