/**
 * GatewayError: the one error type a hook throws to answer a client. The pipeline puts it into the shape
 * of the API the client called; its message is shown to the client, so it never holds a secret or an
 * internal address. Recognised by a brand, not `instanceof`, because a user config loaded through jiti may
 * import its own copy of this module.
 */
const BRAND: unique symbol = Symbol.for('sluice.GatewayError') as any

export interface GatewayErrorOptions {
  /** OpenAI-style error type; derived from the status when omitted. */
  type?: string
  code?: string | null
  param?: string | null
  /** Seconds; sent as `retry-after`. */
  retryAfter?: number
  headers?: Record<string, string>
  /** The error came from (or while reaching) an upstream provider: retry/fallback plugins may act on it. */
  upstream?: boolean
  /**
   * The status the upstream itself answered, when the client is told another one (a provider refusing the
   * gateway's credentials with 401 is a 502 to the client); retry, fallback and breaker decide on this one.
   */
  upstreamStatus?: number
  cause?: unknown
}

export class GatewayError extends Error {
  readonly status: number
  readonly type?: string
  readonly code?: string | null
  readonly param?: string | null
  readonly retryAfter?: number
  readonly headers?: Record<string, string>
  readonly upstream: boolean
  readonly upstreamStatus?: number
  readonly [BRAND] = true

  constructor(status: number, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatewayError'
    this.status = status
    this.type = options.type
    this.code = options.code
    this.param = options.param
    this.retryAfter = options.retryAfter
    this.headers = options.headers
    this.upstream = options.upstream ?? false
    this.upstreamStatus = options.upstreamStatus
  }

  static is(value: unknown): value is GatewayError {
    return typeof value === 'object' && value !== null && (value as any)[BRAND] === true
  }
}

const CONFIG_BRAND: unique symbol = Symbol.for('sluice.ConfigError') as any

/** Thrown when the config is invalid: start-up prints its one-line message and exits. */
export class ConfigError extends Error {
  readonly [CONFIG_BRAND] = true
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }

  static is(value: unknown): value is ConfigError {
    return typeof value === 'object' && value !== null && (value as any)[CONFIG_BRAND] === true
  }
}
