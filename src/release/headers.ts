// The headers every file of the app is served with, by the server and by the service worker alike.
// The Content Security Policy is one string, written into every release manifest and sent by
// the app server unchanged (WEBCAT compares the header with the manifest's byte for byte). The
// signaling socket is same-origin (/signal), so 'self' covers it and the policy needs no host.
// No eval: 'wasm-unsafe-eval' allows compiling WebAssembly only (libsodium); which modules may
// compile is pinned by hash in the manifest's wasm list, enforced where WEBCAT runs.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "frame-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ')

/** Security headers of every response of the app (the service worker rebuilds cached responses with them). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  // On every response, not only HTML: a service worker script takes its CSP from its own response.
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  // Camera for scanning release QR codes; nothing else.
  'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
})

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
}

/** The Content-Type of a served path, by its extension. */
export function contentTypeOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1)
  const dot = name.lastIndexOf('.')
  return (dot > 0 && CONTENT_TYPES[name.slice(dot).toLowerCase()]) || 'application/octet-stream'
}
