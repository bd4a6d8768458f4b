/**
 * `vertex()`: Google Vertex AI. Gemini models through `generateContent` / `streamGenerateContent?alt=sse` on
 * `publishers/google`, Claude models through `rawPredict` / `streamRawPredict` on `publishers/anthropic` (an
 * Anthropic Messages body without `model`, with `anthropic_version`). Requests carry an OAuth access token from
 * google-auth-library: a service-account JSON (a file, inline, or GOOGLE_APPLICATION_CREDENTIALS) or Application
 * Default Credentials; the library caches the token and refreshes it before it expires.
 */
import { GoogleAuth, type AuthClient } from 'google-auth-library'
import {
  GatewayError, clientLinkOf, createUpstreamClient, definePlugin, parseOptions, providerNameSchema, redactOptions, upstreamOptionsShape, withAttemptHeaders, z,
} from '../../../core/index.ts'
import type { ProviderRequest, WireFormat } from '../../../core/index.ts'

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform'
/** Where google-auth-library asks for tokens (service accounts and user credentials alike). */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token'

const optionsSchema = z.strictObject({
  name: providerNameSchema.default('vertex'),
  /** The Google Cloud project (default: GOOGLE_CLOUD_PROJECT, else the credentials' own project). */
  project: z.string().regex(/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/, 'project is a project id ("my-project-123")').optional(),
  /** A region (`us-central1`, `europe-west1`) or `global` (default: GOOGLE_CLOUD_LOCATION, CLOUD_ML_REGION, else us-central1). */
  region: z.string().regex(/^(global|[a-z]+(-[a-z]+)*\d*)$/, 'region looks like "us-central1" or "global"').optional(),
  /** Path to a service-account JSON file (default: GOOGLE_APPLICATION_CREDENTIALS, then Application Default Credentials). */
  keyFile: z.string().min(1).optional(),
  /** A service-account JSON, parsed (instead of `keyFile`). */
  credentials: z.looseObject({ client_email: z.string(), private_key: z.string() }).optional(),
  /** The API origin instead of `https://{region}-aiplatform.googleapis.com` (a Private Service Connect endpoint, a mock). */
  baseURL: z.url().optional(),
  /** The OAuth token endpoint instead of `https://oauth2.googleapis.com/token` (a private endpoint, a mock). */
  tokenURL: z.url().optional(),
  /** Sent as `anthropic_version` in Claude request bodies. */
  anthropicVersion: z.string().min(1).default('vertex-2023-10-16'),
  /** Names for GET /v1/models (any model the project can use may be requested). */
  models: z.array(z.string()).default([
    'gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash',
    'claude-sonnet-4-5@20250929', 'claude-haiku-4-5@20251001', 'claude-opus-4-1@20250805',
  ]),
  ...upstreamOptionsShape,
}).refine((o) => !(o.keyFile && o.credentials), { message: 'give at most one of keyFile or credentials' })

export type VertexOptions = z.input<typeof optionsSchema>

/** Claude models live under publishers/anthropic and speak Anthropic Messages; everything else is Gemini. */
export function isClaude(model: string): boolean {
  return /^claude/i.test(model)
}

/** The Vertex endpoint origin for a region (`global` has no regional prefix). */
export function vertexOrigin(region: string): string {
  return region === 'global' ? 'https://aiplatform.googleapis.com' : `https://${region}-aiplatform.googleapis.com`
}

/** A model id as a path segment (`claude-sonnet-4-5@20250929` keeps its `@`, as Google's own samples write it). */
function modelSegment(model: string): string {
  return encodeURIComponent(model.startsWith('models/') ? model.slice('models/'.length) : model).replace(/%40/g, '@')
}

function authFailure(message: string, cause?: unknown): GatewayError {
  return new GatewayError(502, `the gateway could not get a Google Cloud access token (${message}); the gateway's operator must fix the Vertex credentials`, {
    type: 'api_error', code: 'upstream_auth_failed', upstream: true, cause,
  })
}

export const vertex = definePlugin((input: VertexOptions = {}) => {
  const options = parseOptions('vertex', optionsSchema, input)
  const env = process.env
  const region = options.region ?? env.GOOGLE_CLOUD_LOCATION ?? env.CLOUD_ML_REGION ?? 'us-central1'
  const baseURL = options.baseURL ?? vertexOrigin(region)
  const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM], keyFile: options.keyFile, credentials: options.credentials })
  let project: string | undefined = options.project ?? env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT
  let authClient: Promise<AuthClient> | undefined
  let pendingToken: Promise<string> | undefined

  /** The auth client, made once; a token endpoint given in the options takes the library's token requests. */
  function clientOf(): Promise<AuthClient> {
    authClient ??= auth.getClient().then((client) => {
      if (options.tokenURL) redirectTokenRequests(client, options.tokenURL)
      return client
    }).catch((error) => {
      authClient = undefined // no credentials yet (a file still to be mounted): ask again next time
      throw error
    })
    return authClient
  }

  /** A token Vertex refused before its expiry (revoked): the next request asks for a new one. */
  let refused: string | undefined

  /** A valid access token: the library's cached one, refreshed by it before expiry; concurrent callers share one fetch. */
  function accessToken(): Promise<string> {
    pendingToken ??= clientOf()
      .then((client) => {
        if (refused !== undefined && client.credentials.access_token === refused) {
          // Marked as expiring, the library fetches a new token instead of handing the refused one out again.
          client.credentials = { ...client.credentials, expiry_date: 1 }
        }
        refused = undefined
        return client.getAccessToken()
      })
      .then(({ token }) => {
        if (!token) throw new Error('no access token in the answer')
        return token
      })
      .finally(() => { pendingToken = undefined })
    return pendingToken
  }

  async function projectId(): Promise<string> {
    project ??= await auth.getProjectId()
    return project
  }

  return {
    name: options.name,
    options: redactOptions({ ...options, region }),
    setup(gw) {
      const customHeaders = new Set(Object.keys(options.headers ?? {}).map((name) => name.toLowerCase()))
      const client = createUpstreamClient({ baseURL, headers: options.headers, timeouts: options.timeouts, connections: options.connections })

      function send(request: ProviderRequest, token: string, projectName: string) {
        const claude = request.format === 'anthropic-messages'
        const base = `/v1/projects/${encodeURIComponent(projectName)}/locations/${encodeURIComponent(region)}/publishers/${claude ? 'anthropic' : 'google'}/models/${modelSegment(request.target.model)}`
        const headers: Record<string, string> = { authorization: `Bearer ${token}` }
        // An Anthropic client's beta opt-ins mean something only when its body goes through unchanged.
        const betas = claude && request.ctx.api === 'anthropic-messages' ? request.ctx.request.headers.get('anthropic-beta') : null
        if (betas) headers['anthropic-beta'] = betas
        const common = { headers: withAttemptHeaders(request.headers, headers, customHeaders), format: request.format, stream: request.stream, signal: clientLinkOf(request), timeouts: request.timeouts }
        if (!claude) {
          return client.request({
            ...common, path: `${base}:${request.stream ? 'streamGenerateContent' : 'generateContent'}`, query: request.stream ? { alt: 'sse' } : undefined, body: request.body,
          })
        }
        const { model: _model, ...rest } = request.body
        const body = { anthropic_version: options.anthropicVersion, ...rest, stream: request.stream }
        return client.request({ ...common, path: `${base}:${request.stream ? 'streamRawPredict' : 'rawPredict'}`, body })
      }

      gw.registerProvider({
        name: options.name,
        formats: ['gemini', 'anthropic-messages'],
        formatsFor: (model): WireFormat[] => (isClaude(model) ? ['anthropic-messages'] : ['gemini']),
        models: options.models,
        async call(request: ProviderRequest) {
          let token: string
          let projectName: string
          try {
            ;[token, projectName] = await Promise.all([accessToken(), projectId()])
          } catch (error) {
            const message = (error as Error)?.message ?? String(error)
            gw.logger.warn(`${options.name}: no Google Cloud access token: ${message}`)
            throw authFailure(/project/i.test(message) ? 'no project: set the project option or GOOGLE_CLOUD_PROJECT' : 'see the gateway log', error)
          }
          const response = await send(request, token, projectName)
          if (response.status === 401) refused = token // revoked before its expiry: the next request gets a new one
          return response
        },
        close: () => client.close(),
      })
    },
  }
})

/**
 * google-auth-library posts token requests to a fixed Google URL (a service account's `token_uri` is not read);
 * an interceptor on the client's transporter sends them to `tokenURL` instead.
 */
function redirectTokenRequests(client: AuthClient, tokenURL: string): void {
  client.transporter.interceptors.request.add({
    resolved: async (config) => {
      if (String(config.url).startsWith(GOOGLE_TOKEN_URL)) config.url = new URL(tokenURL)
      return config
    },
  })
}
