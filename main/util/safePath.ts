import path from 'node:path';
import { VantageError } from '../contract/errors.js';

/** Longest single path component we create from data (most file systems allow 255 bytes). */
const MAX_COMPONENT_BYTES = 200;

/**
 * The one way to build a path from untrusted data (ids and names read from case files, packs, zips, requests):
 * joins `parts` under `root` and refuses anything that would land outside it (`..`, absolute parts, drive letters,
 * NUL bytes), empty components and components too long for a file system. Returns the absolute path.
 * `what` names the input in the error ("case id", "zip entry"), so the refusal reads as one line for a user.
 */
export function joinUnder(root: string, parts: string | readonly string[], what = 'path'): string {
  const list = typeof parts === 'string' ? [parts] : parts;
  const base = path.resolve(root);
  for (const p of list) {
    if (typeof p !== 'string' || p.length === 0) throw unsafe(what, p, 'it is empty');
    if (p.includes('\0')) throw unsafe(what, p, 'it holds a NUL byte');
    if (path.isAbsolute(p) || path.win32.isAbsolute(p) || /^[A-Za-z]:/.test(p)) throw unsafe(what, p, 'it is absolute');
    for (const c of p.split(/[\\/]/)) {
      if (c === '..') throw unsafe(what, p, 'it climbs out with ..');
      if (Buffer.byteLength(c) > MAX_COMPONENT_BYTES) throw unsafe(what, p, `a part of it is longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
  }
  const full = path.resolve(base, ...list.map((p) => p.replace(/\\/g, '/')));
  if (full !== base && !full.startsWith(base + path.sep)) throw unsafe(what, list.join('/'), 'it lands outside its folder');
  return full;
}

/** Whether `candidate` (absolute or relative to cwd) is `root` itself or inside it, lexically. */
export function isUnder(root: string, candidate: string): boolean {
  const base = path.resolve(root);
  const full = path.resolve(candidate);
  return full === base || full.startsWith(base + path.sep);
}

function unsafe(what: string, value: unknown, why: string): VantageError {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}…` : value) : String(value);
  return new VantageError('BAD_INPUT', `unsafe ${what} ${shown}: ${why}; refused`);
}
