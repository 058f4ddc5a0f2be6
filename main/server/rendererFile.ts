import path from 'node:path';
import { joinUnder } from '../util/safePath.js';

/**
 * The file a request path names inside the built renderer, or null when it names nothing there: malformed
 * percent-encoding (`/%`), `..` (also as `%2e%2e`), NUL bytes, over-long parts. `/` is index.html. Pure: whether the
 * file exists is the caller's business. Shared by the loopback server's static route and Electron's app:// handler,
 * where a throw would end the request listener (or the process).
 */
export function rendererFileFor(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const rel = decoded.replace(/^[\\/]+/, '') || 'index.html';
  try {
    const file = joinUnder(root, rel, 'request path');
    return file === path.resolve(root) ? null : file;
  } catch {
    return null;
  }
}
