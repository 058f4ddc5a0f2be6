import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/**
 * Writes zip files the way an attacker would: any name, any Unix mode, header sizes that lie, duplicate names,
 * deflate streams that expand a thousandfold, multi-GB stored entries generated chunk by chunk. For the pack
 * install tests and `npm run bench:packs`; no zip library would write most of these. No Zip64: keep under 4 GiB.
 */
export interface CraftedEntry {
  name: string | Buffer;
  method: 0 | 8;
  crc: number;
  /** the uncompressed size the headers claim */
  size: number;
  compressedSize: number;
  /** the entry's stored bytes, in order */
  data: () => Iterable<Buffer>;
  /** Unix mode for the external attributes (0o100644 a file, 0o120777 a symlink) */
  unixMode?: number;
  /** general purpose flags (bit 0: encrypted) */
  flags?: number;
}

export function fileEntry(name: string | Buffer, data: Buffer, opts: { method?: 0 | 8; unixMode?: number; flags?: number } = {}): CraftedEntry {
  const method = opts.method ?? 8;
  const body = method === 8 ? zlib.deflateRawSync(data) : data;
  return { name, method, crc: zlib.crc32(data), size: data.length, compressedSize: body.length, data: () => [body], unixMode: opts.unixMode ?? 0o100644, flags: opts.flags ?? 0 };
}

/**
 * A deflate stream of `mib` MiB of zeros about 1/1000 of that size: one sync-flushed block of 1 MiB of zeros
 * repeated (its matches only reach back over zeros) and an empty final block. The headers claim `claimedSize`
 * (and a CRC of 0).
 */
export function bombEntry(name: string, mib: number, claimedSize: number): CraftedEntry {
  const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 9 });
  const end = Buffer.from([0x03, 0x00]);
  return {
    name,
    method: 8,
    crc: 0, // nothing should get far enough to check it
    size: claimedSize,
    compressedSize: block.length * mib + end.length,
    data: function* () {
      for (let i = 0; i < mib; i++) yield block;
      yield end;
    },
    unixMode: 0o100644,
  };
}

/**
 * `size` bytes of incompressible-looking data, stored, generated 1 MiB at a time (one random MiB, each copy
 * stamped with its index); returns the entry and the sha256 of its contents.
 */
export function bigStoredEntry(name: string, size: number, seed = randomBytes(1 << 20)): { entry: CraftedEntry; sha256: string } {
  const chunk = (i: number) => {
    const c = Buffer.from(seed.subarray(0, Math.min(seed.length, size - i * seed.length)));
    c.writeUInt32LE(i, 0);
    return c;
  };
  const n = Math.ceil(size / seed.length);
  const hash = createHash('sha256');
  let crc = 0;
  for (let i = 0; i < n; i++) {
    const c = chunk(i);
    hash.update(c);
    crc = zlib.crc32(c, crc);
  }
  const entry: CraftedEntry = {
    name,
    method: 0,
    crc,
    size,
    compressedSize: size,
    data: function* () {
      for (let i = 0; i < n; i++) yield chunk(i);
    },
    unixMode: 0o100644,
  };
  return { entry, sha256: hash.digest('hex') };
}

export function writeZip(file: string, entries: CraftedEntry[]): void {
  const fd = openSync(file, 'w');
  let offset = 0;
  const put = (b: Buffer) => {
    writeSync(fd, b);
    offset += b.length;
  };
  const central: Buffer[] = [];
  try {
    for (const e of entries) {
      const name = typeof e.name === 'string' ? Buffer.from(e.name) : e.name;
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE((e.flags ?? 0) | 0x800, 6); // UTF-8 names
      local.writeUInt16LE(e.method, 8);
      local.writeUInt16LE(0, 10);
      local.writeUInt16LE(0x21, 12); // 1980-01-01
      local.writeUInt32LE(e.crc >>> 0, 14);
      local.writeUInt32LE(e.compressedSize, 18);
      local.writeUInt32LE(e.size, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      const at = offset;
      put(local);
      put(name);
      for (const b of e.data()) put(b);
      const cd = Buffer.alloc(46);
      cd.writeUInt32LE(0x02014b50, 0);
      cd.writeUInt16LE((3 << 8) | 20, 4); // made by Unix: the mode in the external attributes counts
      cd.writeUInt16LE(20, 6);
      cd.writeUInt16LE((e.flags ?? 0) | 0x800, 8);
      cd.writeUInt16LE(e.method, 10);
      cd.writeUInt16LE(0, 12);
      cd.writeUInt16LE(0x21, 14);
      cd.writeUInt32LE(e.crc >>> 0, 16);
      cd.writeUInt32LE(e.compressedSize, 20);
      cd.writeUInt32LE(e.size, 24);
      cd.writeUInt16LE(name.length, 28);
      cd.writeUInt32LE(((e.unixMode ?? 0) << 16) >>> 0, 38);
      cd.writeUInt32LE(at, 42);
      central.push(cd, name);
    }
    const cdStart = offset;
    for (const b of central) put(b);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(entries.length, 8);
    eocd.writeUInt16LE(entries.length, 10);
    eocd.writeUInt32LE(offset - cdStart, 12);
    eocd.writeUInt32LE(cdStart, 16);
    put(eocd);
  } finally {
    closeSync(fd);
  }
}

/** A pack's files (manifest.json parsed, the rest as bytes), to edit and zip or write out. */
export interface PackFiles {
  manifest: Record<string, unknown> & { name: string; version: string; files: Record<string, string>; sizes?: Record<string, number>; stages: Record<string, { file: string; sha256: string }> };
  files: Map<string, Buffer>;
}

export function readPack(dir: string, version: string): PackFiles {
  const files = new Map<string, Buffer>();
  for (const n of readdirSync(dir)) if (n !== 'manifest.json') files.set(n, readFileSync(path.join(dir, n)));
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as PackFiles['manifest'];
  manifest.version = version;
  return { manifest, files };
}

/** Sets `file`'s bytes and its sha256 and size in the manifest (listing it under `files` when it is no stage). */
export function putFile(p: PackFiles, file: string, data: Buffer): void {
  p.files.set(file, data);
  const sha = createHash('sha256').update(data).digest('hex');
  const stage = Object.values(p.manifest.stages).find((s) => s.file === file);
  if (stage) stage.sha256 = sha;
  else p.manifest.files[file] = sha;
  p.manifest.sizes = { ...p.manifest.sizes, [file]: data.length };
}

export function manifestBytes(p: PackFiles): Buffer {
  return Buffer.from(JSON.stringify(p.manifest, null, 2));
}

/** The pack's entries under `prefix` (manifest first), deflated */
export function packEntries(p: PackFiles, prefix = 'pack/'): CraftedEntry[] {
  return [fileEntry(`${prefix}manifest.json`, manifestBytes(p)), ...[...p.files].map(([n, b]) => fileEntry(`${prefix}${n}`, b))];
}
