import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { VantageError } from '../contract/errors.js';

/**
 * Writes bytes to a temporary file beside the destination, flushes it, then renames it into place: a reader (or a
 * crash) sees the old file or the whole new one, never half a report.
 */
export function writeFileAtomic(dest: string, bytes: Uint8Array): void {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${randomBytes(4).toString('hex')}.part`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, dest);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
      throw new VantageError('BAD_INPUT', `cannot write into ${path.dirname(dest)} (${e.code}): choose another folder for the export`);
    }
    if (e.code === 'ENOENT') throw new VantageError('NOT_FOUND', `the export folder ${path.dirname(dest)} does not exist`);
    throw err;
  }
}

/** name.ext, or name-2.ext, name-3.ext… when taken: an export never replaces an earlier one. */
export function freeName(folder: string, base: string, ext: string): string {
  for (let i = 1; ; i++) {
    const name = i === 1 ? `${base}.${ext}` : `${base}-${i}.${ext}`;
    if (!existsSync(path.join(folder, name))) return name;
  }
}
