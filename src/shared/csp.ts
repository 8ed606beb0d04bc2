// The Content-Security-Policy of the renderer, in one place: the built index.html carries it as a
// meta tag, and main (app:// protocol) and the end-to-end server send it as a header as well.
// Nothing remote, no inline script or style element, no eval; the UI reaches main only through
// the preload API, so it needs no network at all.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
].join('; ');

/** Directives a meta tag cannot carry (browsers ignore them there); sent only as a header. */
export const CONTENT_SECURITY_POLICY_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;
