/**
 * The renderer's Content-Security-Policy, shared by both ways the app runs: only the app's own scripts, styles and
 * images; no eval, no inline script, no remote content, no framing. `connectSources` adds the loopback WebSocket.
 */
export function contentSecurityPolicy(connectSources: string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${connectSources.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
