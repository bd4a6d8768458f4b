/**
 * The HTTP surface of the pipeline: one route per API a client speaks (OpenAI chat and Responses, Anthropic
 * Messages, Gemini, embeddings), their count-tokens companions, the model lists, and an answer in the right
 * shape for a path that does not exist.
 */
import type { H3, H3Event } from 'h3'
import { errorBody } from './formats/index.ts'
import { apiOfPath, type UrlFields } from './inbound.ts'
import type { PluginHost } from './host.ts'
import type { Pipeline } from './pipeline.ts'
import type { InboundApi, Principal } from './types.ts'

const BODY_APIS: Array<[string, InboundApi]> = [
  ['/v1/chat/completions', 'openai-chat'],
  ['/v1/responses', 'openai-responses'],
  ['/v1/messages', 'anthropic-messages'],
  ['/v1/embeddings', 'openai-embeddings'],
]

const COUNT_APIS: Array<[string, InboundApi]> = [
  ['/v1/messages/count_tokens', 'anthropic-messages'],
  ['/v1/responses/input_tokens', 'openai-responses'],
]

/** Gemini's methods, by the name after the colon in `/v1beta/models/{model}:{method}`. */
const GEMINI_METHODS: Record<string, { api: InboundApi; stream?: boolean; count?: boolean }> = {
  generateContent: { api: 'gemini' },
  streamGenerateContent: { api: 'gemini', stream: true },
  countTokens: { api: 'gemini', count: true },
  embedContent: { api: 'gemini-embed-content' },
  batchEmbedContents: { api: 'gemini-embeddings' },
}

/** The paths whose POST bodies are model API requests (JSON only). */
export function isJsonApiPath(path: string): boolean {
  return BODY_APIS.some(([route]) => route === path) || COUNT_APIS.some(([route]) => route === path)
    || path.startsWith('/v1beta/models/') || (path.startsWith('/v1/models/') && path.includes(':'))
}

function notFound(path: string, method: string, api: InboundApi = apiOfPath(path)): Response {
  // Each API's own word for it: OpenAI says invalid_request_error, Anthropic not_found_error, Gemini NOT_FOUND.
  const type = api === 'anthropic-messages' ? 'not_found_error' : 'invalid_request_error'
  return Response.json(errorBody(api, {
    status: 404, message: `This gateway has no endpoint ${method} ${path}.`, type, code: 'unknown_endpoint',
  }), { status: 404 })
}

/** `/v1beta/models/{model}:{method}` (the model may hold slashes: `openai/gpt-4o`). */
function geminiCall(pipeline: Pipeline, event: H3Event): Promise<Response> | Response {
  const path = event.url.pathname
  const tail = decodeURIComponent(path.slice(path.indexOf('/models/') + '/models/'.length))
  const colon = tail.lastIndexOf(':')
  const method = colon > 0 ? GEMINI_METHODS[tail.slice(colon + 1)] : undefined
  if (!method) return notFound(path, event.req.method, 'gemini')
  const fields: UrlFields = { model: tail.slice(0, colon), stream: method.stream }
  if (method.stream && event.url.searchParams.get('alt') !== 'sse') {
    return Response.json(errorBody('gemini', { status: 400, message: 'streamGenerateContent is served as server-sent events only: add ?alt=sse', type: 'invalid_request_error' }), { status: 400 })
  }
  return method.count ? pipeline.countTokens(event.req, method.api, fields) : pipeline.handle(event.req, method.api, fields)
}

interface ListedModel { id: string; owner: string }

function listModels(host: PluginHost, principal: Principal | undefined): ListedModel[] {
  const seen = new Set<string>()
  const models: ListedModel[] = []
  const add = (id: string, owner: string) => {
    if (seen.has(id) || (principal?.allowsModel && !principal.allowsModel(id))) return
    seen.add(id)
    models.push({ id, owner })
  }
  for (const provider of host.providers.values()) for (const model of provider.models ?? []) add(`${provider.name}/${model}`, provider.name)
  for (const list of host.modelLists) for (const id of list()) add(id, 'sluice')
  return models
}

/** The model list in the shape the client's SDK parses: Anthropic's when it sends `anthropic-version`, else OpenAI's. */
function modelList(models: ListedModel[], request: Request): unknown {
  if (request.headers.has('anthropic-version')) {
    const data = models.map((model) => ({ type: 'model', id: model.id, display_name: model.id, created_at: '1970-01-01T00:00:00Z' }))
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }
  }
  return { object: 'list', data: models.map((model) => ({ id: model.id, object: 'model', created: 0, owned_by: model.owner })) }
}

function geminiModelList(models: ListedModel[]): unknown {
  return {
    models: models.map((model) => ({
      name: `models/${model.id}`, baseModelId: model.id, displayName: model.id,
      supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'],
    })),
  }
}

export function mountApiRoutes(app: H3, pipeline: Pipeline, host: PluginHost): void {
  for (const [path, api] of BODY_APIS) app.post(path, (event) => pipeline.handle(event.req, api))
  for (const [path, api] of COUNT_APIS) app.post(path, (event) => pipeline.countTokens(event.req, api))
  app.post('/v1beta/models/**', (event) => geminiCall(pipeline, event))
  // @google/genai 3 calls `/v1/models/{model}:method` by default.
  app.post('/v1/models/**', (event) => geminiCall(pipeline, event))

  // With an auth plugin the model lists need a key too (as OpenAI's does) and show what that key may use.
  app.get('/v1/models', async (event) => {
    const { principal, error } = await pipeline.authorize(event.req, event.req.headers.has('anthropic-version') ? 'anthropic-messages' : 'openai-chat')
    return error ?? modelList(listModels(host, principal), event.req)
  })
  app.get('/v1beta/models', async (event) => {
    const { principal, error } = await pipeline.authorize(event.req, 'gemini')
    return error ?? geminiModelList(listModels(host, principal))
  })
  // Claude Code probes the base URL with HEAD.
  app.on('HEAD', '/', () => new Response(null, { status: 200 }))
  app.get('/', () => ({ name: 'sluice', status: 'ok' }))
}

/** Registered last: a path no route took answers 404 in the shape of the API the path belongs to. */
export function mountFallback(app: H3): void {
  app.all('/**', (event) => notFound(event.url.pathname, event.req.method))
}
