/** Reads a JSON request body under a size limit: refused before it is read whole. */
import type { IncomingMessage } from 'node:http'
import { GatewayError } from './errors.ts'
import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from './validate.ts'

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

/** `4mb` → 4194304; numbers are bytes. */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') return size
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(size)
  if (!match) throw new Error(`invalid size "${size}" (use bytes or e.g. "4mb")`)
  return Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!)
}

function tooLarge(limit: number): GatewayError {
  // `connection: close`: the rest of the body is never read, so the connection cannot be reused.
  return new GatewayError(413, `request body is larger than the limit of ${limit} bytes`, { type: 'invalid_request_error', code: 'request_too_large', headers: { connection: 'close' } })
}

/** Web-standard path (in-process `app.fetch`, other runtimes). */
async function readWeb(request: Request, limit: number): Promise<string> {
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, size).toString('utf8')
}

/** Node path: straight from the IncomingMessage, without a web stream in between (the hot path under srvx). */
function readNode(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        return reject(tooLarge(limit))
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8'))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    const onClose = () => {
      cleanup()
      reject(new DOMException('client closed the request', 'AbortError'))
    }
    if (req.readableEnded) return resolve('')
    req.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose)
  })
}

/**
 * Reads the body as JSON. An honest content-length over the limit is refused without reading; a body without
 * one is counted while read and refused as soon as it crosses the limit.
 */
export async function readJsonBody(request: Request, limit: number): Promise<{ body: Record<string, unknown>; bytes: number }> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit)
  const nodeRequest = (request as { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req
  const text = nodeRequest ? await readNode(nodeRequest, limit) : await readWeb(request, limit)
  if (!text) throw new GatewayError(400, 'request body is required', { type: 'invalid_request_error' })
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new GatewayError(400, `request body nests deeper than ${MAX_JSON_DEPTH} levels`, { type: 'invalid_request_error', code: 'json_too_deep' })
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new GatewayError(400, 'request body is not valid JSON', { type: 'invalid_request_error', code: 'invalid_json' })
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError(400, 'request body must be a JSON object', { type: 'invalid_request_error' })
  }
  return { body: body as Record<string, unknown>, bytes: text.length }
}
