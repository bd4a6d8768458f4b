// The default Sluice config. The built-in echo provider answers with no API key; each real provider switches
// on when its key is in the environment (or in .env). Usage goes to .sluice/usage.db; set SLUICE_ADMIN_KEY to
// open the admin API and the dashboard. responses() keeps Responses API conversations (previous_response_id) in
// the storage below, for any provider. With OTEL_EXPORTER_OTLP_ENDPOINT set, otel() sends traces there.
import { defineGatewayConfig } from 'sluice'
import { dashboard, metrics, otel, responses, usage } from 'sluice/plugins'
import {
  anthropic, azure, deepseek, echo, fireworks, gemini, groq, mistral, ollama, openai, openrouter, together, xai,
} from 'sluice/plugins/providers'

const env = process.env

export default defineGatewayConfig({
  server: { port: Number(env.PORT ?? 8787), host: env.HOST ?? '127.0.0.1', bodyLimit: '4mb' },
  storage: { driver: 'fs', base: '.sluice/kv' },
  adminKey: env.SLUICE_ADMIN_KEY,
  plugins: [
    echo(),
    ...(env.OPENAI_API_KEY ? [openai({ apiKey: env.OPENAI_API_KEY })] : []),
    ...(env.ANTHROPIC_API_KEY ? [anthropic({ apiKey: env.ANTHROPIC_API_KEY })] : []),
    ...(env.GEMINI_API_KEY ? [gemini({ apiKey: env.GEMINI_API_KEY })] : []),
    ...(env.AZURE_OPENAI_API_KEY && env.AZURE_OPENAI_RESOURCE
      ? [azure({ resourceName: env.AZURE_OPENAI_RESOURCE, apiKey: env.AZURE_OPENAI_API_KEY, ...(env.AZURE_OPENAI_API_VERSION ? { apiVersion: env.AZURE_OPENAI_API_VERSION } : {}) })]
      : []),
    ...(env.GROQ_API_KEY ? [groq({ apiKey: env.GROQ_API_KEY })] : []),
    ...(env.MISTRAL_API_KEY ? [mistral({ apiKey: env.MISTRAL_API_KEY })] : []),
    ...(env.DEEPSEEK_API_KEY ? [deepseek({ apiKey: env.DEEPSEEK_API_KEY })] : []),
    ...(env.XAI_API_KEY ? [xai({ apiKey: env.XAI_API_KEY })] : []),
    ...(env.OPENROUTER_API_KEY ? [openrouter({ apiKey: env.OPENROUTER_API_KEY })] : []),
    ...(env.TOGETHER_API_KEY ? [together({ apiKey: env.TOGETHER_API_KEY })] : []),
    ...(env.FIREWORKS_API_KEY ? [fireworks({ apiKey: env.FIREWORKS_API_KEY })] : []),
    ...(env.OLLAMA_BASE_URL ? [ollama({ baseURL: env.OLLAMA_BASE_URL })] : []),
    responses(),
    usage(),
    metrics(),
    dashboard(),
    ...(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? [otel()] : []),
  ],
})
