// Security headers for every HTTP response of the app server. The CSP is the release's own
// (src/release/csp.ts): the manifest names it, and WEBCAT requires the header to equal it.
import { CONTENT_SECURITY_POLICY } from '../release/csp'

export function securityHeaders(): Readonly<Record<string, string>> {
  return Object.freeze({
    // Sent on every response, not only HTML: a service worker script takes its CSP from its own response.
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    // Camera for scanning release QR codes; nothing else.
    'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  })
}
