// Security headers for every HTTP response of the app server.

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

/**
 * The CSP allows only the app's own origin plus its signaling socket. The socket origin comes
 * from configuration, never from the request's Host header (which a client controls).
 */
export function contentSecurityPolicy(host: string, port: number): string {
  const origin = `${hostForUrl(host)}:${port}`
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'", // libsodium's wasm build
    `connect-src 'self' ws://${origin} wss://${origin}`,
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ')
}

export function securityHeaders(host: string, port: number): Readonly<Record<string, string>> {
  return Object.freeze({
    // Sent on every response, not only HTML: a service worker script takes its CSP from its own response.
    'Content-Security-Policy': contentSecurityPolicy(host, port),
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    // Camera for scanning release QR codes; nothing else.
    'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  })
}
