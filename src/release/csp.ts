// The app's Content Security Policy: one string, written into every release manifest and sent by
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
