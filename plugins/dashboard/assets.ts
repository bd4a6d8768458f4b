/**
 * The console's static files (public/), read once at setup and served from memory with a content type, an ETag
 * (answering 304 to a matching If-None-Match) and headers that keep an admin page from being framed or cached
 * by shared caches. Nothing is read from disk on the request path, and only files found at setup are served.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { extname, join, relative, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
}

/** Everything the page needs comes from this origin; data calls go to the admin API on the same origin. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

export interface Asset {
  body: Uint8Array<ArrayBuffer>
  type: string
  etag: string
}

export type AssetMap = Map<string, Asset>

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return listFiles(path)
    return entry.isFile() && TYPES[extname(entry.name)] ? [path] : []
  }))
  return nested.flat()
}

/** Reads every servable file under `dir`, keyed by its path relative to `dir` with forward slashes. */
export async function loadAssets(dir: string): Promise<AssetMap> {
  const files = await listFiles(dir)
  const assets: AssetMap = new Map()
  await Promise.all(files.map(async (file) => {
    const body = new Uint8Array(await readFile(file)) as Uint8Array<ArrayBuffer>
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    assets.set(relative(dir, file).split(sep).join('/'), { body, type: TYPES[extname(file)]!, etag })
  }))
  return assets
}

/** The asset for a request path under `base` (`/dashboard`, `/dashboard/`, `/dashboard/app.js`), or undefined. */
export function assetFor(assets: AssetMap, base: string, pathname: string): Asset | undefined {
  if (pathname === base || pathname === `${base}/`) return assets.get('index.html')
  if (!pathname.startsWith(`${base}/`)) return undefined
  return assets.get(pathname.slice(base.length + 1))
}

export function serveAsset(asset: Asset | undefined, headers: Headers): Response {
  if (!asset) {
    return new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS } })
  }
  // Not fingerprinted, so browsers revalidate each time; a revalidation is a bodiless 304.
  const common = { etag: asset.etag, 'cache-control': 'no-cache', ...SECURITY_HEADERS }
  if (headers.get('if-none-match')?.split(/\s*,\s*/).includes(asset.etag)) return new Response(null, { status: 304, headers: common })
  return new Response(asset.body, { headers: { ...common, 'content-type': asset.type, 'content-length': String(asset.body.byteLength) } })
}
