import { createHash } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { VantageError } from '../contract/errors.js';
import { MAX_MANIFEST_BYTES, readManifestFile, shown } from '../inference/packManifest.js';
import { joinUnder } from '../util/safePath.js';

/** No single pack file may be larger than this, whatever its manifest says. */
export const MAX_PACK_FILE_BYTES = 64 * 1024 ** 3;
/** Nor a whole pack (a 70B int4 pack is about 40 GB). */
export const MAX_PACK_BYTES = 256 * 1024 ** 3;
/** A pack holds a dozen files; an archive listing more is not one (and its central directory is read first). */
const MAX_ZIP_ENTRIES = 10_000;
const MAX_ENTRY_NAME_BYTES = 1024;

/**
 * Where a pack is installed from: a folder or a .zip, opened without copying or inflating anything. The install
 * reads manifest.json first, then copies exactly the files it names, one at a time, through `copyFile`.
 */
export interface PackSource {
  /** the file or folder the user chose, for messages */
  readonly label: string;
  readonly kind: 'folder' | 'zip';
  /** manifest.json's bytes (at most MAX_MANIFEST_BYTES + 1: parseManifest refuses more) */
  readonly manifestRaw: Buffer;
  /**
   * Copies `file` to `out` (created, never overwritten), stopping the moment more than `cap` bytes have come out;
   * returns the bytes written and their sha256. `declared`: the manifest's size (a .zip needs one).
   */
  copyFile(file: string, declared: number | undefined, cap: number, out: string): Promise<{ bytes: number; sha256: string }>;
  /**
   * A small file beside manifest.json that the manifest does not list (a detached signature): its bytes, null when
   * absent; refused when larger than `max`, a link or not a regular file.
   */
  readSmallFile(name: string, max: number): Promise<Buffer | null>;
  close(): Promise<void>;
}

export async function openPackSource(source: string): Promise<PackSource> {
  const st = await stat(source).catch(() => {
    throw new VantageError('NOT_FOUND', `no pack at ${source}; choose a pack folder or a .zip`);
  });
  if (st.isDirectory()) return FolderSource.open(source);
  if (st.isFile() && source.toLowerCase().endsWith('.zip')) return ZipSource.open(source);
  throw new VantageError('BAD_INPUT', `${path.basename(source)} is not a model pack; choose a pack folder or a .zip`);
}

/** Counts and hashes bytes as they pass; fails the copy as soon as the count passes `cap`. */
class Meter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  constructor(
    private readonly cap: number,
    private readonly tooBig: () => VantageError,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.byteLength;
    if (this.bytes > this.cap) return done(this.tooBig());
    this.hash.update(chunk);
    done(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Streams `input` into a new file `out` through a Meter; the first error (the cap, the source, the disk) wins. */
async function meteredCopy(input: Readable, out: string, cap: number, tooBig: () => VantageError): Promise<{ bytes: number; sha256: string }> {
  const meter = new Meter(cap, tooBig);
  await pipeline(input, meter, createWriteStream(out, { flags: 'wx', mode: 0o644 }));
  return { bytes: meter.bytes, sha256: meter.digest() };
}

function tooBigError(label: string, file: string, declared: number | undefined, cap: number): () => VantageError {
  return () =>
    new VantageError(
      'BAD_INPUT',
      declared !== undefined && cap >= declared
        ? `${label}: ${file} holds more than the ${declared} bytes manifest.json declares; refused (a corrupt pack or a zip bomb)`
        : `${label}: ${file} does not fit: more than ${cap} bytes (the free disk space or the ${MAX_PACK_FILE_BYTES / 1024 ** 3} GiB a pack file may have); refused`,
    );
}

class FolderSource implements PackSource {
  readonly kind = 'folder';
  private constructor(
    readonly label: string,
    private readonly dir: string,
    readonly manifestRaw: Buffer,
  ) {}

  /** manifest.json in the folder itself, or in the one folder it holds (an unzipped .zip of a folder) */
  static async open(source: string): Promise<FolderSource> {
    const label = path.basename(path.resolve(source));
    const has = async (dir: string) => (await lstat(path.join(dir, 'manifest.json')).catch(() => null))?.isFile() === true;
    let dir = source;
    if (!(await has(dir))) {
      const entries = (await readdir(source, { withFileTypes: true })).filter((e) => !e.name.startsWith('.') && e.name !== '__MACOSX');
      const only = entries.length === 1 && entries[0]!.isDirectory() ? path.join(source, entries[0]!.name) : null;
      if (!only || !(await has(only))) throw noManifest(label);
      dir = only;
    }
    const raw = await readManifestFile(path.join(dir, 'manifest.json')).catch(() => {
      throw new VantageError('BAD_INPUT', `${label}: manifest.json could not be read (a symbolic link or not a regular file); refused`);
    });
    return new FolderSource(label, dir, raw);
  }

  async copyFile(file: string, declared: number | undefined, cap: number, out: string): Promise<{ bytes: number; sha256: string }> {
    const from = joinUnder(this.dir, file, 'pack file');
    const st = await lstat(from).catch(() => null);
    if (!st) throw new VantageError('BAD_INPUT', `${this.label}: file ${file} listed in manifest.json is missing; copy the whole pack folder again`);
    if (st.isSymbolicLink()) throw new VantageError('BAD_INPUT', `${this.label}: ${file} is a symbolic link; a pack must hold its files, refused`);
    if (!st.isFile()) throw new VantageError('BAD_INPUT', `${this.label}: ${file} is not a regular file; refused`);
    if (declared !== undefined && st.size !== declared) {
      throw new VantageError('BAD_INPUT', `${this.label}: ${file} is ${st.size} bytes but manifest.json declares ${declared}; the pack is incomplete or tampered with`);
    }
    if (st.size > cap) throw tooBigError(this.label, file, declared, cap)();
    // O_NOFOLLOW: a file swapped for a link after the lstat is not followed either
    const fh = await open(from, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
    // a file that grows while it is copied stops at the size it had
    return meteredCopy(fh.createReadStream(), out, Math.min(cap, st.size), tooBigError(this.label, file, st.size, Math.min(cap, st.size)));
  }

  async readSmallFile(name: string, max: number): Promise<Buffer | null> {
    const file = joinUnder(this.dir, name, 'pack file');
    if (!(await lstat(file).catch(() => null))) return null;
    const raw = await readManifestFile(file, max).catch(() => {
      throw new VantageError('BAD_INPUT', `${this.label}: ${name} could not be read (a symbolic link or not a regular file); refused`);
    });
    if (raw.byteLength > max) throw new VantageError('BAD_INPUT', `${this.label}: ${name} is larger than ${max} bytes; refused`);
    return raw;
  }

  async close(): Promise<void> {}
}

interface ZipEntryInfo {
  entry: yauzl.Entry;
  name: string;
}

class ZipSource implements PackSource {
  readonly kind = 'zip';
  private constructor(
    readonly label: string,
    private readonly zip: yauzl.ZipFile,
    /** entries by their name inside the pack folder (the manifest's folder prefix removed) */
    private readonly files: Map<string, ZipEntryInfo>,
    public manifestRaw: Buffer,
  ) {}

  static async open(source: string): Promise<ZipSource> {
    const label = path.basename(source);
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(source, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false });
    } catch (err) {
      throw notReadable(label, err);
    }
    try {
      const entries = await readCentralDirectory(label, zip);
      const manifest = findManifest(label, entries);
      const prefix = manifest.name.slice(0, -'manifest.json'.length);
      const files = new Map<string, ZipEntryInfo>();
      for (const e of entries) if (!e.name.endsWith('/') && e.name.startsWith(prefix)) files.set(e.name.slice(prefix.length), e);
      const src = new ZipSource(label, zip, files, Buffer.alloc(0));
      src.manifestRaw = (await src.readSmallFile('manifest.json', MAX_MANIFEST_BYTES))!;
      return src;
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  private async entryStream(file: string, e: ZipEntryInfo): Promise<Readable> {
    const { entry } = e;
    if (entry.isEncrypted()) throw new VantageError('BAD_INPUT', `${this.label}: ${file} is encrypted; packs must not be, refused`);
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw new VantageError('BAD_INPUT', `${this.label}: ${file} uses compression method ${entry.compressionMethod}; only stored and deflated entries are read`);
    }
    try {
      return await this.zip.openReadStreamPromise(entry);
    } catch (err) {
      throw damaged(this.label, file, err);
    }
  }

  async copyFile(file: string, declared: number | undefined, cap: number, out: string): Promise<{ bytes: number; sha256: string }> {
    const e = this.files.get(file);
    if (!e) throw new VantageError('BAD_INPUT', `${this.label}: file ${file} listed in manifest.json is missing from the .zip; the pack is incomplete`);
    if (declared === undefined) {
      throw new VantageError(
        'BAD_INPUT',
        `${this.label}: manifest.json declares no size for ${file}; a .zip installs only with every file's size in "sizes" (re-export the pack, or unzip it and install the folder)`,
      );
    }
    // the bytes that come out of the inflater are counted; the sizes in the zip's headers are never trusted
    const input = await this.entryStream(file, e);
    return meteredCopy(input, out, cap, tooBigError(this.label, file, declared, cap)).catch((err: unknown) => {
      throw err instanceof VantageError ? err : damaged(this.label, file, err);
    });
  }

  async readSmallFile(name: string, max: number): Promise<Buffer | null> {
    const e = this.files.get(name);
    if (!e) return null;
    const chunks: Buffer[] = [];
    const meter = new Meter(max, () => new VantageError('BAD_INPUT', `${this.label}: ${name} is larger than ${max} bytes; refused`));
    await pipeline(await this.entryStream(name, e), meter, async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) chunks.push(c);
    }).catch((err: unknown) => {
      throw err instanceof VantageError ? err : damaged(this.label, name, err);
    });
    return Buffer.concat(chunks);
  }

  async close(): Promise<void> {
    this.zip.close();
  }
}

/**
 * Reads every central-directory record (no file data) and refuses archives no pack tool writes: unsafe names
 * (absolute, `..`, backslashes, empty parts, over-long), links and other special files, duplicates (ignoring
 * case, as macOS and Windows do) and a file and a folder of the same name.
 */
async function readCentralDirectory(label: string, zip: yauzl.ZipFile): Promise<ZipEntryInfo[]> {
  if (zip.entryCount > MAX_ZIP_ENTRIES) throw new VantageError('BAD_INPUT', `${label} lists ${zip.entryCount} entries; a model pack has a few, refused`);
  const out: ZipEntryInfo[] = [];
  const seen = new Map<string, string>();
  const folders = new Set<string>();
  try {
    for await (const entry of zip.eachEntry()) {
      const raw = entry.fileNameRaw;
      if (raw.byteLength > MAX_ENTRY_NAME_BYTES) {
        throw new VantageError('BAD_INPUT', `${label} holds an entry name of ${raw.byteLength} bytes (at most ${MAX_ENTRY_NAME_BYTES}); refused`);
      }
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
      const refuse = (why: string) => new VantageError('BAD_INPUT', `${label}: entry ${shown(name)} ${why}; refused`);
      const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
      const isDir = name.endsWith('/') || mode === 0o040000;
      const bare = name.endsWith('/') ? name.slice(0, -1) : name;
      if (name.includes('\\')) throw refuse('holds a backslash');
      joinUnder('/zip-root', bare, `zip entry in ${label}`); // absolute, .., NUL, over-long parts
      if (bare.split('/').some((c) => c === '' || c === '.')) throw refuse('has an empty or "." part');
      if (mode === 0o120000) throw refuse('is a symbolic link');
      if (mode !== 0 && mode !== 0o100000 && mode !== 0o040000) throw refuse('is not a regular file or folder');
      if (entry.isEncrypted() && !isDir) throw refuse('is encrypted');
      const key = bare.normalize('NFC').toLowerCase();
      const prev = seen.get(key);
      if (prev !== undefined) throw refuse(prev === name ? 'appears twice' : `clashes with ${shown(prev)} (same name ignoring case)`);
      seen.set(key, name);
      const parts = key.split('/');
      for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
      if (isDir) folders.add(key);
      out.push({ entry, name: isDir && !name.endsWith('/') ? `${name}/` : name });
    }
  } catch (err) {
    throw err instanceof VantageError ? err : notReadable(label, err);
  }
  for (const [key, name] of seen) {
    if (!name.endsWith('/') && folders.has(key)) throw new VantageError('BAD_INPUT', `${label} holds both a file and a folder named ${shown(name)}; refused`);
  }
  return out;
}

/** manifest.json at the root, else in the one top-level folder that holds one */
function findManifest(label: string, entries: ZipEntryInfo[]): ZipEntryInfo {
  const root = entries.find((e) => e.name === 'manifest.json');
  if (root) return root;
  const nested = entries.filter((e) => /^[^/]+\/manifest\.json$/.test(e.name) && !e.name.startsWith('__MACOSX/'));
  if (nested.length === 1) return nested[0]!;
  if (nested.length > 1) throw new VantageError('BAD_INPUT', `${label} holds ${nested.length} packs (manifest.json in several folders); zip one pack`);
  throw noManifest(label);
}

function noManifest(label: string): VantageError {
  return new VantageError(
    'BAD_INPUT',
    `${label}: no manifest.json in the chosen pack; choose the folder (or .zip) that holds manifest.json, tokenizer.json and the .onnx stages`,
  );
}

function notReadable(label: string, err: unknown): VantageError {
  return new VantageError('BAD_INPUT', `${label} is not a readable .zip (${oneLine(err)}); copy it again`);
}

function damaged(label: string, file: string, err: unknown): VantageError {
  return new VantageError('BAD_INPUT', `${label}: ${file} could not be read from the .zip (${oneLine(err)}); copy it again`);
}

export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const line = msg.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}…` : line;
}
