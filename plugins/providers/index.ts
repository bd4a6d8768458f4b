export { echo, type EchoOptions } from './echo/index.ts'
export { openai, type OpenAIOptions } from './openai/index.ts'
export { openaiCompatible, type OpenAICompatibleOptions } from './openai-compatible/index.ts'
