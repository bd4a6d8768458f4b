/**
 * Logging with consola: readable lines in development, one JSON object per line in production. Secrets are
 * scrubbed from every line that leaves the process, whatever a plugin logs.
 */
import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from 'consola'

const LEVELS = { silent: -999, error: 0, warn: 1, info: 3, debug: 4 } as const
export type LogLevel = keyof typeof LEVELS

// Bearer tokens, sk-… style keys, and values of secret-looking fields.
const SECRET_PATTERNS: RegExp[] = [
  /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\b(AIza)[A-Za-z0-9_-]{20,}/g,
  /("?(?:authorization|x-api-key|api-key|x-goog-api-key|apiKey|api_key|adminKey|password|secret)"?\s*[:=]\s*"?)[^"\s,}]+/gi,
]

export function redact(text: string): string {
  let out = text
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (_match, prefix?: string) => `${typeof prefix === 'string' ? prefix : ''}[redacted]`)
  }
  return out
}

function formatArg(arg: unknown): string {
  if (typeof arg === 'string') return arg
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`
  try {
    return JSON.stringify(arg) ?? String(arg) // undefined and functions stringify to undefined
  } catch {
    return String(arg)
  }
}

const jsonReporter: ConsolaReporter = {
  log(logObj: LogObject) {
    const line: Record<string, unknown> = {
      time: logObj.date.toISOString(),
      level: logObj.type,
      ...(logObj.tag ? { tag: logObj.tag } : {}),
      msg: redact(logObj.args.map(formatArg).join(' ')),
    }
    process.stdout.write(JSON.stringify(line) + '\n')
  },
}

/** Wraps another reporter so what it prints has secrets removed. */
function redacting(inner: ConsolaReporter): ConsolaReporter {
  return {
    log(logObj, ctx) {
      inner.log({ ...logObj, args: logObj.args.map((a) => redact(formatArg(a))) }, ctx)
    },
  }
}

export function createLogger(level?: LogLevel): ConsolaInstance {
  const production = process.env.NODE_ENV === 'production'
  const base = createConsola({ throttle: 0 })
  const reporters = production ? [jsonReporter] : base.options.reporters.map(redacting)
  const defaultLevel = process.env.NODE_ENV === 'test' || process.env.VITEST ? LEVELS.warn : LEVELS.info
  return createConsola({
    level: level ? LEVELS[level] : defaultLevel,
    reporters,
    throttle: 0,
    formatOptions: base.options.formatOptions,
  })
}
