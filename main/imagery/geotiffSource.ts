import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fromFile, getDecoder, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { VantageError } from '../contract/errors.js';
import type { ImageInfo } from '../contract/schemas.js';
import { crsFromGeoKeys } from './crs.js';
import { installSafeLzw } from './safeLzw.js';
import type { NumericArray, RasterLevel, RasterSource, SourceFacts, WindowData } from './rasterSource.js';
import { blockLayoutOf, LevelBlocks } from './tiffBlocks.js';
import { parseGdalMetadata, type GdalBandMeta } from './sarScale.js';

type Gcp = NonNullable<ImageInfo['gcps']>[number];

installSafeLzw();

const PIXEL_IS_POINT = 2;
const PHOTOMETRIC_YCBCR = 6;
/** NewSubfileType bits (TIFF 6.0): 1 = reduced-resolution image, 4 = transparency mask */
const SUBFILE_MASK = 4;

/** GDAL data type names from TIFF SampleFormat + BitsPerSample. */
export function gdalDtype(sampleFormat: number, bits: number): string {
  switch (sampleFormat) {
    case 2:
      return ({ 8: 'Int8', 16: 'Int16', 32: 'Int32', 64: 'Int64' } as Record<number, string>)[bits] ?? `Int${bits}`;
    case 3:
      return ({ 16: 'Float16', 32: 'Float32', 64: 'Float64' } as Record<number, string>)[bits] ?? `Float${bits}`;
    case 5:
      return ({ 32: 'CInt16', 64: 'CInt32' } as Record<number, string>)[bits] ?? `CInt${bits / 2}`;
    case 6:
      return ({ 64: 'CFloat32', 128: 'CFloat64' } as Record<number, string>)[bits] ?? `CFloat${bits / 2}`;
    default:
      return bits === 8 ? 'Byte' : ({ 16: 'UInt16', 32: 'UInt32', 64: 'UInt64' } as Record<number, string>)[bits] ?? `UInt${bits}`;
  }
}

function badInput(file: string, why: string): VantageError {
  return new VantageError('BAD_INPUT', `cannot open ${path.basename(file)} as a GeoTIFF: ${why}`);
}

function toNumbers(v: unknown): number[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number>, Number);
  return null;
}

/**
 * Geotransform as GDAL reports it. PixelIsPoint rasters have tiepoints at pixel centres; GDAL (default
 * GTIFF_POINT_GEO_IGNORE=FALSE) shifts the origin by half a pixel so the geotransform still addresses pixel corners.
 */
export function geotransformFromTags(
  tiepoints: number[] | null,
  scale: number[] | null,
  transformation: number[] | null,
  pixelIsPoint: boolean,
): [number, number, number, number, number, number] | null {
  let gt: [number, number, number, number, number, number] | null = null;
  if (transformation && transformation.length >= 16) {
    const m = transformation;
    gt = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
  } else if (tiepoints && tiepoints.length === 6 && scale && scale.length >= 2) {
    const [i, j, , x, y] = tiepoints as [number, number, number, number, number, number];
    const sx = scale[0]!;
    const sy = scale[1]!;
    gt = [x - i * sx, sx, 0, y + j * sy, 0, -sy];
  }
  if (gt && pixelIsPoint) {
    gt[0] -= 0.5 * gt[1] + 0.5 * gt[2];
    gt[3] -= 0.5 * gt[4] + 0.5 * gt[5];
  }
  return gt;
}

export function gcpsFromTiepoints(tiepoints: number[] | null, pixelIsPoint: boolean): Gcp[] | null {
  if (!tiepoints || tiepoints.length < 12 || tiepoints.length % 6 !== 0) return null;
  const out: Gcp[] = [];
  const shift = pixelIsPoint ? 0.5 : 0;
  for (let k = 0; k < tiepoints.length; k += 6) {
    out.push({
      pixel: tiepoints[k]! + shift,
      line: tiepoints[k + 1]! + shift,
      x: tiepoints[k + 3]!,
      y: tiepoints[k + 4]!,
      z: tiepoints[k + 5]!,
    });
  }
  return out;
}

/** GDAL_NODATA is ASCII; "nan"/"-inf" are legal there but not JSON numbers, so only finite values are reported. */
function parseNodata(raw: unknown): number | null {
  if (typeof raw !== 'string') return null;
  const v = Number(raw.replace(/\0/g, '').trim());
  return Number.isFinite(v) ? v : null;
}

/**
 * Which decoder reads pixels: 'blocks' (tiffBlocks.ts: native zlib, decode pool for large windows; geotiff.js for
 * what it does not cover) or 'geotiff' (geotiff.js only, the reader before it; benchmarks compare the two).
 * Default: VANTAGE_TIFF_READER, else 'blocks'.
 */
export type TiffReader = 'blocks' | 'geotiff';

function readerFromEnv(): TiffReader {
  return process.env.VANTAGE_TIFF_READER === 'geotiff' ? 'geotiff' : 'blocks';
}

export class GeoTiffSource implements RasterSource {
  private fh: Promise<FileHandle> | null = null;
  /** windows (and masks) read so far by each decoder */
  readonly reads = { blocks: 0, geotiff: 0 };
  private blocks: (LevelBlocks | null)[] = [];
  private maskBlocks: (LevelBlocks | null)[] = [];

  private constructor(
    readonly file: string,
    private readonly tiff: GeoTIFF,
    private readonly images: GeoTIFFImage[],
    private readonly masks: (GeoTIFFImage | null)[],
    readonly levels: RasterLevel[],
    readonly facts: SourceFacts,
    private readonly complex: boolean,
    private readonly ycbcr: boolean,
  ) {}

  static async open(file: string, opts: { reader?: TiffReader } = {}): Promise<GeoTiffSource> {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (e) {
      throw new VantageError('NOT_FOUND', `image file not found or unreadable: ${file} (${(e as Error).message})`);
    }
    if (size === 0) throw badInput(file, 'the file is empty (0 bytes)');
    const head = Buffer.alloc(4);
    const fh = await open(file, 'r');
    try {
      await fh.read(head, 0, 4, 0);
    } finally {
      await fh.close();
    }
    const magic = head.toString('latin1', 0, 2);
    const version = magic === 'II' ? head.readUInt16LE(2) : magic === 'MM' ? head.readUInt16BE(2) : -1;
    if (version !== 42 && version !== 43) throw badInput(file, 'not a TIFF file (no II*/MM* header)');

    const count = await countIfds(file, size, magic === 'II', version === 43);
    let tiff: GeoTIFF | null = null;
    try {
      tiff = await fromFile(file);
      const all: GeoTIFFImage[] = [];
      for (let i = 0; i < count; i++) all.push(await tiff.getImage(i));
      const first = all[0];
      if (!first) throw new Error('no image directory');
      const spp = first.getSamplesPerPixel();
      // overviews = reduced-resolution IFDs with the same band count; internal masks are skipped
      const images = [first];
      const masks: GeoTIFFImage[] = [];
      for (const im of all.slice(1)) {
        const sub = Number(im.fileDirectory.getValue('NewSubfileType') ?? 0);
        if (sub & SUBFILE_MASK) masks.push(im);
        else if (im.getSamplesPerPixel() === spp) images.push(im);
      }
      images.sort((a, b) => b.getWidth() - a.getWidth());
      // GDAL writes one mask IFD per level, same size as the level it masks
      const levelMasks = images.map(
        (im) => masks.find((m) => m.getWidth() === im.getWidth() && m.getHeight() === im.getHeight()) ?? null,
      );
      assertDecodable(file, first);
      await assertNotTruncated(file, first, size);
      const facts = await readFacts(first, images.length - 1);
      const w = first.getWidth();
      const h = first.getHeight();
      const levels = images.map((im) => ({
        width: im.getWidth(),
        height: im.getHeight(),
        scaleX: w / im.getWidth(),
        scaleY: h / im.getHeight(),
      }));
      const complex = facts.dtype.startsWith('C');
      const ycbcr = Number(first.fileDirectory.getValue('PhotometricInterpretation')) === PHOTOMETRIC_YCBCR && spp === 3;
      const source = new GeoTiffSource(file, tiff, images, levelMasks, levels, facts, complex, ycbcr);
      if ((opts.reader ?? readerFromEnv()) === 'blocks') {
        const blocksOf = async (im: GeoTIFFImage | null) => {
          const lay = im ? await blockLayoutOf(im) : null;
          return lay && im ? new LevelBlocks(lay, im, size) : null;
        };
        source.blocks = await Promise.all(images.map(blocksOf));
        source.maskBlocks = await Promise.all(levelMasks.map(blocksOf));
      }
      return source;
    } catch (e) {
      if (tiff) await Promise.resolve(tiff.close()).catch(() => undefined);
      if (e instanceof VantageError) throw e;
      throw badInput(file, `the TIFF structure is corrupt or unsupported (${(e as Error).message})`);
    }
  }

  async readWindow(level: number, window: [number, number, number, number], bands: number[]): Promise<WindowData> {
    const im = this.images[level];
    if (!im) throw new VantageError('INTERNAL', `no overview level ${level} in ${path.basename(this.file)}`);
    const [x0, y0, x1, y1] = window;
    const width = x1 - x0;
    const height = y1 - y0;
    try {
      if (this.complex) return { width, height, bands: await this.readComplexAmplitude(im, window, bands) };
      if (this.ycbcr) {
        // JPEG-in-TIFF YCbCr comes out of geotiff.js as raw Y, Cb, Cr; GDAL presents it as RGB, so do we
        const r = (await im.readRasters({ window, samples: [0, 1, 2], interleave: false })) as unknown as NumericArray[];
        const rgb = ycbcrToRgb(r[0]!, r[1]!, r[2]!);
        return { width, height, bands: bands.map((b) => rgb[b]!) };
      }
      const fast = await this.readBlocks(this.blocks[level], window, bands);
      if (fast) return { width, height, bands: fast };
      this.reads.geotiff++;
      const r = await im.readRasters({ window, samples: bands, interleave: false });
      return { width, height, bands: Array.from(r as unknown as NumericArray[]) };
    } catch (e) {
      // decoders throw Errors or bare strings (pako): either way the file's pixels are corrupt
      const why = e instanceof Error ? e.message : String(e);
      throw new VantageError('BAD_INPUT', `cannot decode pixels of ${path.basename(this.file)}: ${why}`);
    }
  }

  async readMask(level: number, window: [number, number, number, number]): Promise<Uint8Array | null> {
    const m = this.masks[level];
    if (!m) return null;
    try {
      const fast = await this.readBlocks(this.maskBlocks[level], window, [0]);
      if (fast) return fast[0] as Uint8Array;
      this.reads.geotiff++;
      const r = (await m.readRasters({ window, samples: [0], interleave: false })) as unknown as NumericArray[];
      return r[0] as Uint8Array;
    } catch (e) {
      throw new VantageError('BAD_INPUT', `cannot decode the mask of ${path.basename(this.file)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * The block decoder's read, or null where it does not apply or fails: then geotiff.js reads the window (and
   * reports corrupt data in its own words).
   */
  private async readBlocks(lb: LevelBlocks | null | undefined, [x0, y0, x1, y1]: [number, number, number, number], bands: number[]): Promise<NumericArray[] | null> {
    if (!lb || bands.some((b) => !(b >= 0 && b < lb.lay.spp))) return null;
    try {
      const r = await lb.read(this.file, () => (this.fh ??= open(this.file, 'r')), { x0, y0, x1, y1, bands });
      this.reads.blocks++;
      return r;
    } catch {
      return null;
    }
  }

  /**
   * geotiff.js has no complex sample types; SAR SLC rasters are decoded block by block here and shown as
   * amplitude sqrt(re² + im²), which is what an analyst looks at.
   */
  private async readComplexAmplitude(
    im: GeoTIFFImage,
    [x0, y0, x1, y1]: [number, number, number, number],
    bands: number[],
  ): Promise<NumericArray[]> {
    const width = x1 - x0;
    const height = y1 - y0;
    const bits = im.getBitsPerSample();
    const fmt = im.getSampleFormat();
    const half = bits / 16; // bytes per real/imag component
    const spp = im.getSamplesPerPixel();
    const planar = im.planarConfiguration === 2;
    const bw = im.getTileWidth();
    const bh = im.getTileHeight();
    const compression = Number(im.fileDirectory.getValue('Compression') ?? 1);
    const fd = im.fileDirectory;
    // geotiff.js does not export its parameter helper; these are the fields its generic decoders read
    const decoder = await getDecoder(compression, {
      tileWidth: bw,
      tileHeight: bh,
      planarConfiguration: im.planarConfiguration,
      bitsPerSample: await fd.loadValue('BitsPerSample'),
      predictor: Number(await fd.loadValue('Predictor')) || 1,
    } as unknown as Parameters<typeof getDecoder>[1]);
    const le = im.littleEndian;
    const out = bands.map(() => new Float32Array(width * height));
    const tiled = fd.hasTag('TileOffsets');
    const offsetsTag = tiled ? 'TileOffsets' : 'StripOffsets';
    const countsTag = tiled ? 'TileByteCounts' : 'StripByteCounts';
    const blocksAcross = Math.ceil(im.getWidth() / bw);
    const blocksDown = Math.ceil(im.getHeight() / bh);
    const pxBytes = (bits / 8) * (planar ? 1 : spp);
    for (let by = Math.floor(y0 / bh); by * bh < y1; by++) {
      for (let bx = Math.floor(x0 / bw); bx * bw < x1; bx++) {
        for (let bi = 0; bi < bands.length; bi++) {
          const band = bands[bi]!;
          // getTileOrStrip would normalise to a typed array, which fails for complex samples: fetch and decode raw
          const index = (planar ? band * blocksDown * blocksAcross : 0) + by * blocksAcross + bx;
          const offset = Number(await fd.loadValueIndexed(offsetsTag, index));
          const length = Number(await fd.loadValueIndexed(countsTag, index));
          const slice = (await im.source.fetch([{ offset, length }]))[0]!;
          const data = await decoder.decode(slice);
          const dv = new DataView(data as ArrayBuffer);
          const o = out[bi]!;
          const bandOff = planar ? 0 : band * (bits / 8);
          for (let yy = Math.max(y0, by * bh); yy < Math.min(y1, (by + 1) * bh); yy++) {
            const row = (yy - by * bh) * bw;
            for (let xx = Math.max(x0, bx * bw); xx < Math.min(x1, (bx + 1) * bw); xx++) {
              const off = (row + (xx - bx * bw)) * pxBytes + bandOff;
              if (off + 2 * half > dv.byteLength) continue;
              let re: number;
              let imag: number;
              if (fmt === 5) {
                re = half === 2 ? dv.getInt16(off, le) : dv.getInt32(off, le);
                imag = half === 2 ? dv.getInt16(off + 2, le) : dv.getInt32(off + 4, le);
              } else {
                re = half === 4 ? dv.getFloat32(off, le) : dv.getFloat64(off, le);
                imag = half === 4 ? dv.getFloat32(off + 4, le) : dv.getFloat64(off + 8, le);
              }
              o[(yy - y0) * width + (xx - x0)] = Math.hypot(re, imag);
            }
          }
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.then((h) => h.close()).catch(() => undefined);
    await Promise.resolve(this.tiff.close());
  }
}

const MAX_IFDS = 256;

/** bytes per value of each TIFF field type */
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/**
 * Walks the IFD chain before geotiff.js does: a corrupt next-IFD pointer can loop forever (a cycle) or point
 * outside the file, and a corrupt value count makes geotiff.js read gigabytes before failing. Every entry's
 * values must lie inside the file. Returns the number of IFDs.
 */
async function countIfds(file: string, size: number, le: boolean, big: boolean): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(16);
    const read = async (at: number, n: number, into: Buffer = buf): Promise<Buffer> => {
      if (at < 0 || at + n > size) throw badInput(file, `the file is truncated or corrupt: an image directory points outside it (byte ${at} of ${size})`);
      await fh.read(into, 0, n, at);
      return into;
    };
    const u16 = (b: Buffer) => (le ? b.readUInt16LE(0) : b.readUInt16BE(0));
    const u32 = (b: Buffer) => (le ? b.readUInt32LE(0) : b.readUInt32BE(0));
    const u64 = (b: Buffer) => Number(le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0));
    let next = big ? u64(await read(8, 8)) : u32(await read(4, 4));
    const seen = new Set<number>();
    while (next !== 0) {
      if (seen.has(next)) throw badInput(file, 'its image directories form a loop (corrupt next-IFD pointer)');
      if (seen.size >= MAX_IFDS) throw badInput(file, `it has more than ${MAX_IFDS} image directories`);
      seen.add(next);
      const entries = big ? u64(await read(next, 8)) : u16(await read(next, 2));
      if (entries > 4096) throw badInput(file, `an image directory claims ${entries} entries`);
      const esize = big ? 20 : 12;
      const table = await read(big ? next + 8 : next + 2, entries * esize, Buffer.alloc(entries * esize));
      for (let e = 0; e < entries; e++) {
        const o = e * esize;
        const type = le ? table.readUInt16LE(o + 2) : table.readUInt16BE(o + 2);
        const tsize = TYPE_SIZE[type];
        if (tsize === undefined) continue; // unknown types are skipped by readers
        const count = big ? Number(le ? table.readBigUInt64LE(o + 4) : table.readBigUInt64BE(o + 4)) : le ? table.readUInt32LE(o + 4) : table.readUInt32BE(o + 4);
        const bytes = count * tsize;
        if (bytes <= (big ? 8 : 4)) continue; // the values sit in the entry itself
        const off = big ? Number(le ? table.readBigUInt64LE(o + 12) : table.readBigUInt64BE(o + 12)) : le ? table.readUInt32LE(o + 8) : table.readUInt32BE(o + 8);
        if (off + bytes > size) {
          const tag = le ? table.readUInt16LE(o) : table.readUInt16BE(o);
          throw badInput(file, `tag ${tag} claims ${count} values at byte ${off}, beyond the end of the file (${size} bytes)`);
        }
      }
      const at = big ? next + 8 + entries * 20 : next + 2 + entries * 12;
      next = big ? u64(await read(at, 8)) : u32(await read(at, 4));
    }
    if (seen.size === 0) throw badInput(file, 'it has no image directory');
    return seen.size;
  } finally {
    await fh.close();
  }
}

/** JFIF YCbCr → RGB (ITU-R BT.601 full range), as libjpeg and GDAL do it. */
function ycbcrToRgb(y: NumericArray, cb: NumericArray, cr: NumericArray): Uint8Array[] {
  const n = y.length;
  const r = new Uint8Array(n);
  const g = new Uint8Array(n);
  const b = new Uint8Array(n);
  const clamp = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));
  for (let i = 0; i < n; i++) {
    const Y = y[i]!;
    const Cb = cb[i]! - 128;
    const Cr = cr[i]! - 128;
    r[i] = clamp(Y + 1.402 * Cr);
    g[i] = clamp(Y - 0.344136 * Cb - 0.714136 * Cr);
    b[i] = clamp(Y + 1.772 * Cb);
  }
  return [r, g, b];
}

/** TIFF Compression codes geotiff.js decodes in Node (WEBP and JPEG-XL need browser/native codecs it lacks). */
const DECODABLE = new Map<number, string>([
  [1, 'none'], [5, 'LZW'], [7, 'JPEG'], [8, 'Deflate'], [32946, 'Deflate'], [32773, 'PackBits'],
  [34887, 'LERC'], [50000, 'ZSTD'],
]);
const KNOWN_UNDECODABLE = new Map<number, string>([[6, 'old-style JPEG'], [50001, 'WEBP'], [50002, 'JPEG-XL'], [34925, 'LZMA'], [34712, 'JPEG 2000']]);

function assertDecodable(file: string, im: GeoTIFFImage): void {
  const c = Number(im.fileDirectory.getValue('Compression') ?? 1);
  if (DECODABLE.has(c)) return;
  const name = KNOWN_UNDECODABLE.get(c) ?? `unknown compression code ${c}`;
  throw new VantageError(
    'UNSUPPORTED',
    `cannot open ${path.basename(file)}: its pixels are ${name}-compressed, which Vantage cannot decode; ` +
      'convert it first, e.g. gdal_translate -co COMPRESS=DEFLATE -co TILED=YES in.tif out.tif',
  );
}

/**
 * A file cut short still parses its IFD; comparing block offsets with the file size catches it at open time.
 * The block table must also match the stated size: a corrupt width/height (absurd sizes) fails here, not as an
 * out-of-memory later.
 */
async function assertNotTruncated(file: string, im: GeoTIFFImage, size: number): Promise<void> {
  const fd = im.fileDirectory;
  const offs = toNumbers(await fd.loadValue(fd.hasTag('TileOffsets') ? 'TileOffsets' : 'StripOffsets'));
  const counts = toNumbers(await fd.loadValue(fd.hasTag('TileByteCounts') ? 'TileByteCounts' : 'StripByteCounts'));
  if (!offs || !counts) throw badInput(file, 'the image has no strip/tile offsets');
  const w = im.getWidth();
  const h = im.getHeight();
  if (!(w > 0 && h > 0)) throw badInput(file, `the image has a zero size (${w}×${h})`);
  const bw = im.getTileWidth();
  const bh = im.getTileHeight();
  const planes = im.planarConfiguration === 2 ? im.getSamplesPerPixel() : 1;
  const blocks = Math.ceil(w / bw) * Math.ceil(h / bh) * planes;
  if (!(bw > 0 && bh > 0) || offs.length < blocks || counts.length < blocks) {
    throw badInput(file, `its block table lists ${offs.length} block(s) but ${w}×${h} px in ${bw}×${bh} blocks need ${blocks}`);
  }
  let end = 0;
  for (let i = 0; i < offs.length; i++) end = Math.max(end, offs[i]! + (counts[i] ?? 0));
  if (end > size) {
    throw badInput(file, `the file is truncated: pixel data runs to byte ${end} but the file has only ${size} bytes`);
  }
}

const PHOTOMETRIC_PALETTE = 3;

/** TIFF ColorMap: all reds, then greens, then blues, 16-bit each; scaled to 8-bit triplets. */
async function readPalette(im: GeoTIFFImage): Promise<Uint8Array | null> {
  const fd = im.fileDirectory;
  if (Number(fd.getValue('PhotometricInterpretation')) !== PHOTOMETRIC_PALETTE || !fd.hasTag('ColorMap')) return null;
  if (im.getSamplesPerPixel() !== 1) return null;
  const map = toNumbers(await fd.loadValue('ColorMap'));
  if (!map || map.length % 3 !== 0) return null;
  const n = map.length / 3;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = map[i]! >> 8;
    out[i * 3 + 1] = map[n + i]! >> 8;
    out[i * 3 + 2] = map[2 * n + i]! >> 8;
  }
  return out;
}

/**
 * ExtraSamples 1 (associated) or 2 (unassociated alpha): the extra samples follow the colour ones. GDAL's own
 * colour interpretation of that band (COLORINTERP metadata), when it names another, wins as it does in GDAL: NAIP
 * quarter-quads declare their NIR band as alpha in ExtraSamples and "Undefined" in GDAL's metadata.
 */
function alphaBandOf(im: GeoTIFFImage, gdal: GdalBandMeta[]): number | null {
  const extra = toNumbers(im.fileDirectory.hasTag('ExtraSamples') ? im.fileDirectory.getValue('ExtraSamples') : null) ?? [];
  const i = extra.findIndex((v) => v === 1 || v === 2);
  if (i < 0) return null;
  const band = im.getSamplesPerPixel() - extra.length + i;
  const ci = gdal[band]?.colourInterp;
  return ci && !/alpha/i.test(ci) ? null : band;
}

async function readFacts(im: GeoTIFFImage, overviewCount: number): Promise<SourceFacts> {
  const fd = im.fileDirectory;
  const keys = im.getGeoKeys();
  const pixelIsPoint = Number(keys?.GTRasterTypeGeoKey ?? 1) === PIXEL_IS_POINT;
  const tiepoints = toNumbers(fd.hasTag('ModelTiepoint') ? await fd.loadValue('ModelTiepoint') : null);
  const scale = toNumbers(fd.hasTag('ModelPixelScale') ? await fd.loadValue('ModelPixelScale') : null);
  const transformation = toNumbers(
    fd.hasTag('ModelTransformation') ? await fd.loadValue('ModelTransformation') : null,
  );
  const geotransform = geotransformFromTags(tiepoints, scale, transformation, pixelIsPoint);
  const gcps = geotransform ? null : gcpsFromTiepoints(tiepoints, pixelIsPoint);
  const crs = geotransform || gcps ? await crsFromGeoKeys(keys as Record<string, unknown> | null) : null;
  const sampleFormat = Number(toNumbers(fd.getValue('SampleFormat'))?.[0] ?? 1);
  const bits = Number(toNumbers(fd.getValue('BitsPerSample'))?.[0] ?? 8);
  const desc = fd.hasTag('ImageDescription') ? await fd.loadValue('ImageDescription') : null;
  const xml = fd.hasTag('GDAL_METADATA') ? await fd.loadValue('GDAL_METADATA') : null;
  const gdal = typeof xml === 'string' ? parseGdalMetadata(xml).bands : [];
  return {
    width: im.getWidth(),
    height: im.getHeight(),
    bandCount: im.getSamplesPerPixel(),
    dtype: gdalDtype(sampleFormat, bits),
    nodata: parseNodata(fd.hasTag('GDAL_NODATA') ? fd.getValue('GDAL_NODATA') : null),
    geotransform,
    gcps,
    overviewCount,
    crs,
    description: typeof desc === 'string' ? desc.replace(/\0/g, '') : null,
    palette: await readPalette(im),
    striped: !im.isTiled,
    alphaBand: alphaBandOf(im, gdal),
    colourInterp: colourInterpOf(im, gdal),
  };
}

const PHOTOMETRIC_RGB = 2;

/**
 * Per band: GDAL's COLORINTERP metadata where it has one, else Photometric RGB (or YCbCr, decoded to RGB): the first
 * three samples are red, green and blue
 */
function colourInterpOf(im: GeoTIFFImage, gdal: GdalBandMeta[]): (string | null)[] {
  const p = Number(im.fileDirectory.getValue('PhotometricInterpretation'));
  const n = im.getSamplesPerPixel();
  const rgb = (p === PHOTOMETRIC_RGB || p === PHOTOMETRIC_YCBCR) && n >= 3;
  return Array.from({ length: n }, (_, i) => gdal[i]?.colourInterp ?? (rgb && i < 3 ? (['Red', 'Green', 'Blue'] as const)[i]! : null));
}
