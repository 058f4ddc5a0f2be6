import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VantageError } from '../contract/errors.js';

/** Where browser-mode drops land: the page cannot know a dropped file's path, so it sends the bytes. */
export interface UploadTarget {
  /** `<dataDir>/imports` */
  dir: string;
  /** an opaque reference for the stored copy (FileAccess.refFor), never its path */
  refFor(file: string): string;
  maxBytes?: number;
}

export const UPLOAD_MAX_BYTES = 4 * 1024 ** 3;
/** images to open, and .mbtiles offline basemaps */
const UPLOADABLE = new Set(['.tif', '.tiff', '.gtiff', '.jpg', '.jpeg', '.png', '.mbtiles']);

/** A safe file name in the imports folder: the base name only, odd characters replaced, an image extension. */
export function uploadName(raw: string | null): string {
  const base = path.basename((raw ?? '').replace(/\\/g, '/')).replace(/[^\w.\- ]/g, '_').slice(-120).trim();
  const ext = path.extname(base).toLowerCase();
  if (!base || base.startsWith('.') || !UPLOADABLE.has(ext)) {
    throw new VantageError('BAD_INPUT', `only image files (.tif, .tiff, .jpg, .jpeg, .png) or MBTiles basemaps can be dropped, not "${raw ?? ''}"`);
  }
  return base;
}

/**
 * Streams the request body into `<dir>/.<random>.part` (never held in memory), refusing past maxBytes, then
 * renames it to a free name beside the others so a half-written file is never opened.
 */
export async function receiveUpload(req: IncomingMessage, target: UploadTarget, rawName: string | null): Promise<{ ref: string; name: string }> {
  const name = uploadName(rawName);
  const max = target.maxBytes ?? UPLOAD_MAX_BYTES;
  const tooLarge = () => new VantageError('BAD_INPUT', `the dropped file is larger than ${(max / 1024 ** 3).toFixed(1)} GB: open it with “Open image” instead`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    throw tooLarge();
  }
  mkdirSync(target.dir, { recursive: true });
  const tmp = path.join(target.dir, `.${randomBytes(8).toString('hex')}.part`);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      done(size > max ? tooLarge() : null, chunk);
    },
  });
  try {
    await pipeline(req, counter, createWriteStream(tmp, { flags: 'wx' }));
    if (size === 0) throw new VantageError('BAD_INPUT', `the dropped file ${name} is empty (0 bytes)`);
    const ext = path.extname(name);
    const stem = name.slice(0, -ext.length);
    let final = path.join(target.dir, name);
    for (let i = 1; existsSync(final); i++) final = path.join(target.dir, `${stem}-${i}${ext}`);
    renameSync(tmp, final);
    return { ref: target.refFor(final), name: path.basename(final) };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e instanceof VantageError ? e : new VantageError('BAD_INPUT', `the upload of ${name} did not complete (${(e as Error).message})`);
  }
}
