// Serves the built app (dist/) with an SPA fallback. Read-only, no directory listings,
// no path outside the root, no dotfiles except the release's own files under /.well-known/.
import { createReadStream, type Stats } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import path from 'node:path'
import { contentTypeOf } from '../release/headers'

export const NOT_BUILT_TEXT = 'Blossom is not built yet: run the build (npx vite build) to create dist/, then reload.\n'

export interface StaticOptions {
  /** Directory holding the built app; may not exist yet (then every request gets 503). */
  root: string
  /** Added to every response (security headers). */
  headers: () => Readonly<Record<string, string>>
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void


function cacheControl(relative: string): string {
  // Vite names files under assets/ by content hash; everything else (index.html, sw.js,
  // the manifest) must be revalidated so an update is picked up.
  return relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
}

/** Decoded path segments of the request, or null if the path is unusable or tries to climb. */
function requestSegments(url: string | undefined): string[] | null {
  const raw = (url ?? '/').split(/[?#]/, 1)[0] ?? ''
  if (!raw.startsWith('/')) return null
  let decoded: string
  try {
    decoded = decodeURIComponent(raw)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const segments = decoded.split('/').filter((s) => s !== '')
  if (segments.some((s) => s === '..' || s === '.')) return null
  return segments
}

/** The release manifest and signature (/.well-known/webcat/…, /.well-known/blossom/…) are public by design. */
function isReleaseFile(segments: readonly string[]): boolean {
  const [first, second, ...rest] = segments
  return first === '.well-known' && (second === 'webcat' || second === 'blossom') && rest.length === 1 && !rest[0]!.startsWith('.')
}

async function fileStat(file: string): Promise<Stats | null> {
  try {
    const s = await stat(file)
    return s.isFile() ? s : null
  } catch {
    return null
  }
}

export function createStaticHandler(options: StaticOptions): RequestHandler {
  const rootPath = path.resolve(options.root)

  const plain = (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, {
      ...options.headers(),
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache',
      'Content-Length': Buffer.byteLength(text),
      ...extra,
    })
    res.end(text)
  }

  const send = (req: IncomingMessage, res: ServerResponse, file: string, info: Stats, relative: string): void => {
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`
    const headers = {
      ...options.headers(),
      'Content-Type': contentTypeOf(file),
      'Cache-Control': cacheControl(relative),
      ETag: etag,
    }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    res.writeHead(200, { ...headers, 'Content-Length': info.size })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    const stream = createReadStream(file)
    stream.on('error', () => res.destroy())
    stream.pipe(res)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return plain(res, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' })
    }
    const segments = requestSegments(req.url)
    if (segments === null) return plain(res, 400, 'Bad request\n')

    let root: string
    const index = await fileStat(path.join(rootPath, 'index.html'))
    try {
      root = await realpath(rootPath)
    } catch {
      root = ''
    }
    if (index === null || root === '') return plain(res, 503, NOT_BUILT_TEXT, { 'Retry-After': '10' })

    const hidden = !isReleaseFile(segments) && segments.some((s) => s.startsWith('.'))
    const relative = segments.length === 0 ? 'index.html' : segments.join('/')
    const candidate = path.resolve(root, relative)
    const info = hidden ? null : await fileStat(candidate)
    if (info !== null) {
      // Defense in depth: the resolved file (after symlinks) must still be inside the root.
      const real = await realpath(candidate)
      if (real.startsWith(root + path.sep)) return send(req, res, real, info, relative)
    }
    // Deep links of the SPA get index.html; a missing asset gets 404, not HTML in disguise.
    const last = segments.at(-1) ?? ''
    const wantsPage = !last.includes('.') || (req.headers.accept ?? '').includes('text/html')
    if (!hidden && wantsPage) return send(req, res, path.join(root, 'index.html'), index, 'index.html')
    return plain(res, 404, 'Not found\n')
  }

  return (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, 'Internal error\n')
      else res.destroy()
    })
  }
}
