import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/** A hidden temp name beside `target`, so the final rename stays on one file system. */
export function tempBeside(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.partial`);
}

/**
 * Moves a fully written temp file into place: fsync the file, rename (atomic), fsync the folder so the rename itself
 * survives a power cut. A killed process leaves at most a hidden .partial file, never a half case file.
 */
export function commitFile(temp: string, target: string): void {
  const fd = openSync(temp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
  try {
    const dfd = openSync(path.dirname(target), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // folders cannot be opened for fsync on some platforms (Windows); the rename is still atomic there
  }
}

export function discard(temp: string): void {
  rmSync(temp, { force: true });
}
