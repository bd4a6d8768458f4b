/**
 * `bedrock()`: models on AWS Bedrock through the Converse API (`POST /model/{modelId}/converse`) and ConverseStream
 * (`/converse-stream`, AWS's binary event stream). Every request is signed with AWS Signature V4 (the AWS SDK's
 * own signer, @smithy/signature-v4, over node:crypto hashes) over the exact body sent; credentials come from the options or the standard AWS environment
 * variables. Model ids are Bedrock's own: `anthropic.claude-…-v1:0`, inference profiles (`us.anthropic.claude-…`),
 * or an inference-profile / provisioned-throughput ARN (URL-encoded into the path).
 */
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'
import {
  ConfigError, GatewayError, clientLinkOf, createUpstreamClient, withAttemptHeaders, definePlugin, parseOptions, providerNameSchema, redactOptions,
  scrubUpstreamMessage, upstreamOptionsShape, z,
} from '../../../core/index.ts'
import type { ProviderRequest, ProviderResponse, UpstreamResponse } from '../../../core/index.ts'
import { EVENT_STREAM_TYPE, sseFromEventStream } from './event-stream.ts'

interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration?: Date
}

export type CredentialProvider = () => Promise<AwsCredentials> | AwsCredentials

const optionsSchema = z.strictObject({
  name: providerNameSchema.default('bedrock'),
  /** The AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION). */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'region looks like "us-east-1"').optional(),
  /** Default: AWS_ACCESS_KEY_ID (with AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN). */
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: z.string().min(1).optional(),
  /** Temporary credentials' session token (default: AWS_SESSION_TOKEN, when the key also came from the environment). */
  sessionToken: z.string().min(1).optional(),
  /**
   * Credentials that rotate: called for them instead of the three options above (the AWS SDK's credential
   * providers fit). An answer is kept until five minutes before its `expiration`; without one, asked per request.
   */
  credentials: z.custom<CredentialProvider>((value) => typeof value === 'function', { message: 'credentials is a function returning { accessKeyId, secretAccessKey, sessionToken? }' }).optional(),
  /** The endpoint origin (default `https://bedrock-runtime.{region}.amazonaws.com`): a VPC endpoint, a proxy, a mock. */
  baseURL: z.url().optional(),
  /** Names for GET /v1/models (any Bedrock model id may be requested). */
  models: z.array(z.string()).default([
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    'us.anthropic.claude-opus-4-1-20250805-v1:0',
    'anthropic.claude-3-5-haiku-20241022-v1:0',
    'us.amazon.nova-pro-v1:0',
    'us.amazon.nova-lite-v1:0',
    'us.amazon.nova-micro-v1:0',
    'us.meta.llama3-3-70b-instruct-v1:0',
  ]),
  ...upstreamOptionsShape,
})

export type BedrockOptions = z.input<typeof optionsSchema>

/** Credentials from the options, else from the environment (a session token only goes with the key it belongs to). */
function credentialsOf(options: z.output<typeof optionsSchema>, env: NodeJS.ProcessEnv): AwsCredentials | undefined {
  if (options.credentials) {
    if (options.accessKeyId || options.secretAccessKey || options.sessionToken) throw new ConfigError('bedrock: give either credentials or accessKeyId/secretAccessKey/sessionToken, not both')
    return undefined
  }
  const fromOptions = options.accessKeyId !== undefined
  const accessKeyId = options.accessKeyId ?? env.AWS_ACCESS_KEY_ID
  const secretAccessKey = options.secretAccessKey ?? (fromOptions ? undefined : env.AWS_SECRET_ACCESS_KEY)
  if (!accessKeyId) throw new ConfigError('bedrock: option "accessKeyId" is required — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')
  if (!secretAccessKey) throw new ConfigError(`bedrock: option "secretAccessKey" is required — set ${fromOptions ? 'it beside accessKeyId' : 'AWS_SECRET_ACCESS_KEY'}`)
  const sessionToken = options.sessionToken ?? (fromOptions ? undefined : env.AWS_SESSION_TOKEN || undefined)
  return { accessKeyId, secretAccessKey, sessionToken }
}

/** `/model/{modelId}/converse[-stream]`; the id is one path segment, so an ARN's `:` and `/` are encoded. */
export function conversePath(model: string, stream: boolean): string {
  return `/model/${encodeURIComponent(model)}/${stream ? 'converse-stream' : 'converse'}`
}

/**
 * AWS names the failure in `x-amzn-errortype`; it goes into the body as `__type` (where AWS JSON protocols also
 * put it) for the codec to read. A refusal of the gateway's own credentials (an expired session token, a bad
 * signature) is the operator's problem: a 502 `upstream_auth_failed`, as for every provider, naming AWS's reason.
 */
function explainError(response: UpstreamResponse): ProviderResponse {
  const body = response.body
  const exception = (response.headers.get('x-amzn-errortype') ?? '').split(':', 1)[0]!.trim()
  const record = body && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : {}
  if (response.status === 401 || response.status === 403) {
    const said = typeof record.message === 'string' ? record.message : typeof record.Message === 'string' ? record.Message : ''
    const reason = [exception, said && scrubUpstreamMessage(said)].filter(Boolean).join(': ')
    throw new GatewayError(502, `AWS refused the gateway's credentials (${response.status}${reason ? ` ${reason}` : ''}); the gateway's operator must renew the AWS credentials or grant them access`, {
      type: 'api_error', code: 'upstream_auth_failed', upstream: true, upstreamStatus: response.status,
    })
  }
  if (exception && record.__type === undefined) response.body = { ...record, __type: exception }
  return response
}

const RENEW_BEFORE_MS = 5 * 60_000

/** A credential provider's answer kept until five minutes before it expires; concurrent callers share one call. */
function rotating(provider: CredentialProvider): () => Promise<AwsCredentials> {
  let held: AwsCredentials | undefined
  let pending: Promise<AwsCredentials> | undefined
  return async () => {
    if (held?.expiration && held.expiration.getTime() - RENEW_BEFORE_MS > Date.now()) return held
    pending ??= Promise.resolve().then(provider).then((credentials) => {
      if (!credentials?.accessKeyId || !credentials.secretAccessKey) throw new Error('the credentials function returned no accessKeyId/secretAccessKey')
      held = credentials
      return credentials
    }).finally(() => { pending = undefined })
    try {
      return await pending
    } catch (error) {
      throw new GatewayError(502, 'the gateway could not get AWS credentials; the gateway\'s operator must fix the credentials function', {
        type: 'api_error', code: 'upstream_auth_failed', upstream: true, cause: error,
      })
    }
  }
}

export const bedrock = definePlugin((input: BedrockOptions = {}) => {
  const options = parseOptions('bedrock', optionsSchema, input)
  const env = process.env
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
  if (!region) throw new ConfigError('bedrock: option "region" is required — set AWS_REGION')
  const fixed = credentialsOf(options, env)
  const baseURL = (options.baseURL ?? `https://bedrock-runtime.${region}.amazonaws.com`).replace(/\/+$/, '')
  const url = new URL(baseURL)
  // The signer keeps the derived signing key (per day, region and credentials) itself.
  const signer = new SignatureV4({ service: 'bedrock', region, credentials: fixed ?? rotating(options.credentials!), sha256: Hash.bind(null, 'sha256') })

  async function signedHeaders(path: string, payload: string): Promise<Record<string, string>> {
    const request = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname.replace(/\/$/, '') + path,
      headers: { 'content-type': 'application/json', host: url.host },
      body: payload,
    })
    const signed = await signer.sign(request)
    return signed.headers
  }

  return {
    name: options.name,
    options: redactOptions({ ...options, region, accessKeyId: fixed?.accessKeyId, credentials: options.credentials && '[function]' }),
    setup(gw) {
      const customHeaders = new Set(Object.keys(options.headers ?? {}).map((name) => name.toLowerCase()))
      const client = createUpstreamClient({ baseURL, headers: options.headers, timeouts: options.timeouts, connections: options.connections })
      gw.registerProvider({
        name: options.name,
        formats: ['bedrock-converse'],
        models: options.models,
        async call(request: ProviderRequest) {
          const path = conversePath(request.target.model, request.stream)
          const payload = JSON.stringify(request.body)
          const response = await client.request({
            path,
            body: request.body,
            payload,
            // An attempt's extra headers (a trace context) go along unsigned; the signed ones win a clash.
            headers: withAttemptHeaders(request.headers, await signedHeaders(path, payload), customHeaders),
            format: 'bedrock-converse',
            stream: request.stream,
            streamType: EVENT_STREAM_TYPE,
            signal: clientLinkOf(request),
            timeouts: request.timeouts,
          }) as UpstreamResponse
          if (response.stream) {
            response.stream = sseFromEventStream(response.stream)
            return response
          }
          return response.status >= 400 ? explainError(response) : response
        },
        close: () => client.close(),
      })
    },
  }
})
