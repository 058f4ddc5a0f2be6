import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rendererFileFor } from './rendererFile.js';

const root = path.resolve('/opt/vantage/dist/renderer');
const under = (...p: string[]) => path.join(root, ...p);

describe('rendererFileFor (loopback static route and Electron app:// handler)', () => {
  it('maps request paths to files under the renderer root; / and empty are index.html', () => {
    expect(rendererFileFor(root, '/')).toBe(under('index.html'));
    expect(rendererFileFor(root, '')).toBe(under('index.html'));
    expect(rendererFileFor(root, '/index.html')).toBe(under('index.html'));
    expect(rendererFileFor(root, '/assets/app-1f2e.js')).toBe(under('assets', 'app-1f2e.js'));
    expect(rendererFileFor(root, '/assets/a%20b.css')).toBe(under('assets', 'a b.css'));
    expect(rendererFileFor(root, '//assets//x.js')).toBe(under('assets', 'x.js'));
  });

  it('answers null instead of throwing on malformed percent-encoding', () => {
    for (const p of ['/%', '/%zz', '/%E0%A4%A', '/assets/%', '//%zz/', '/%C0%AF']) expect(rendererFileFor(root, p)).toBeNull();
  });

  it('never leaves the root: .. (also encoded), NUL bytes, absolute and drive paths, over-long parts, the root itself', () => {
    for (const p of [
      '/../etc/passwd',
      '/%2e%2e/etc/passwd',
      '/assets/%2E%2E/%2E%2E/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/..%5c..%5cwindows',
      '/index.html%00.js',
      '/C:/Windows/win.ini',
      `/${'a'.repeat(300)}.js`,
      '/.',
      '/%2e',
    ]) {
      expect(rendererFileFor(root, p), p).toBeNull();
    }
    // whatever the input, an answer is under the root
    for (const p of ['/a/./b', '/a/../b', '/%2F%2Fetc/passwd', '/\\etc\\passwd']) {
      const file = rendererFileFor(root, p);
      if (file !== null) expect(file.startsWith(root + path.sep), `${p} → ${file}`).toBe(true);
    }
  });
});
