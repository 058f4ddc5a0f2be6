import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUnder, joinUnder } from './safePath.js';

describe('joinUnder', () => {
  const root = path.resolve('/data/vantage');

  it('joins well-formed parts under the root', () => {
    expect(joinUnder(root, ['cases', '3f1c0a52-8d2e-4c1b-9a77-0c1d2e3f4a5b'])).toBe(path.join(root, 'cases', '3f1c0a52-8d2e-4c1b-9a77-0c1d2e3f4a5b'));
    expect(joinUnder(root, 'a/b/c.onnx')).toBe(path.join(root, 'a', 'b', 'c.onnx'));
  });

  it('refuses every way out of the root', () => {
    for (const bad of ['../../X', '..', 'a/../../b', '/etc/passwd', 'C:\\Windows', 'c:x', '..\\..\\x', 'a\0b', '']) {
      expect(() => joinUnder(root, ['cases', bad], 'case id'), bad).toThrow(/unsafe case id/);
    }
  });

  it('refuses a component too long for a file system, with a short message', () => {
    const long = 'n'.repeat(10 * 1024 * 1024);
    let message = '';
    try {
      joinUnder(root, long, 'pack name');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/unsafe pack name .*longer than 200 bytes/);
    expect(message.length).toBeLessThan(200);
  });

  it('isUnder is lexical and exact about prefixes', () => {
    expect(isUnder(root, path.join(root, 'x'))).toBe(true);
    expect(isUnder(root, root)).toBe(true);
    expect(isUnder(root, `${root}-evil/x`)).toBe(false);
    expect(isUnder(root, path.join(root, '..', 'x'))).toBe(false);
  });
});
