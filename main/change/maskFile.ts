import { writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import { fromFile } from 'geotiff';
import sharp from 'sharp';
import { VantageError } from '../contract/errors.js';

/** GeoTIFF tags that place a raster on the ground; copied verbatim from image A so the mask lands on A's grid. */
const GEO_TAGS = [
  { name: 'ModelPixelScale', tag: 33550, type: 12 },
  { name: 'ModelTiepoint', tag: 33922, type: 12 },
  { name: 'ModelTransformation', tag: 34264, type: 12 },
  { name: 'GeoKeyDirectory', tag: 34735, type: 3 },
  { name: 'GeoDoubleParams', tag: 34736, type: 12 },
  { name: 'GeoAsciiParams', tag: 34737, type: 2 },
] as const;

type TagValue = { tag: number; type: 2 | 3 | 4 | 12; values: number[] | string };

/** The georeferencing tags of a GeoTIFF's first image (none for a file that carries none). */
export async function readGeoTags(file: string): Promise<TagValue[]> {
  const tiff = await fromFile(file);
  try {
    const fd = (await tiff.getImage(0)).fileDirectory;
    const out: TagValue[] = [];
    for (const t of GEO_TAGS) {
      if (!fd.hasTag(t.name)) continue;
      const v: unknown = await fd.loadValue(t.name);
      if (t.type === 2) {
        if (typeof v === 'string') out.push({ tag: t.tag, type: 2, values: v });
      } else if (v && typeof (v as ArrayLike<number>).length === 'number') {
        out.push({ tag: t.tag, type: t.type, values: Array.from(v as ArrayLike<number>, Number) });
      }
    }
    return out;
  } finally {
    await Promise.resolve(tiff.close()).catch(() => undefined);
  }
}

/**
 * A single-band 8-bit TIFF, one Deflate-compressed strip, little-endian, with extra tags (sorted in). Baseline TIFF
 * plus the GeoTIFF tags is all GDAL and geotiff.js need; a writer this small keeps the app free of GDAL.
 */
export function encodeByteTiff(data: Uint8Array, width: number, height: number, extra: TagValue[]): Buffer {
  const strip = deflateSync(data);
  const base: TagValue[] = [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: [8] },
    { tag: 259, type: 3, values: [8] }, // Deflate
    { tag: 262, type: 3, values: [1] }, // min-is-black
    { tag: 273, type: 4, values: [0] }, // strip offset, patched below
    { tag: 277, type: 3, values: [1] },
    { tag: 278, type: 4, values: [height] },
    { tag: 279, type: 4, values: [strip.length] },
    { tag: 284, type: 3, values: [1] },
    { tag: 339, type: 3, values: [1] }, // unsigned integer
  ];
  const tags = [...base, ...extra].sort((p, q) => p.tag - q.tag);
  const size = (t: TagValue) => (t.type === 2 ? Buffer.byteLength(String(t.values), 'latin1') + 1 : (t.values as number[]).length * (t.type === 3 ? 2 : t.type === 4 ? 4 : 8));
  const ifdOffset = 8;
  const ifdSize = 2 + tags.length * 12 + 4;
  let dataOffset = ifdOffset + ifdSize;
  const outOfLine = new Map<TagValue, number>();
  for (const t of tags) {
    if (size(t) > 4) {
      outOfLine.set(t, dataOffset);
      dataOffset += size(t) + (size(t) % 2);
    }
  }
  const stripOffset = dataOffset;
  const buf = Buffer.alloc(stripOffset + strip.length);
  buf.write('II', 0, 'latin1');
  buf.writeUInt16LE(42, 2);
  buf.writeUInt32LE(ifdOffset, 4);
  buf.writeUInt16LE(tags.length, ifdOffset);
  const put = (t: TagValue, at: number) => {
    if (t.type === 2) {
      buf.write(String(t.values), at, 'latin1');
      return;
    }
    (t.values as number[]).forEach((v, i) => {
      if (t.type === 3) buf.writeUInt16LE(v, at + 2 * i);
      else if (t.type === 4) buf.writeUInt32LE(v, at + 4 * i);
      else buf.writeDoubleLE(v, at + 8 * i);
    });
  };
  tags.forEach((t, i) => {
    const e = ifdOffset + 2 + i * 12;
    buf.writeUInt16LE(t.tag, e);
    buf.writeUInt16LE(t.type, e + 2);
    buf.writeUInt32LE(t.type === 2 ? size(t) : (t.values as number[]).length, e + 4);
    const v = t.tag === 273 ? { ...t, values: [stripOffset] } : t;
    const off = outOfLine.get(t);
    if (off !== undefined) {
      buf.writeUInt32LE(off, e + 8);
      put(v, off);
    } else {
      put(v, e + 8);
    }
  });
  buf.writeUInt32LE(0, ifdOffset + 2 + tags.length * 12);
  strip.copy(buf, stripOffset);
  return buf;
}

/**
 * Writes a binary mask (1 = changed) on image A's full grid as 0/255: a GeoTIFF carrying A's own georeferencing
 * when A is georeferenced (A is then always a TIFF), else a PNG. The format follows the output's extension when
 * it names one (.tif/.tiff or .png); a GeoTIFF asked for an image without georeference is refused.
 */
export async function writeMaskFile(out: string, mask: Uint8Array, width: number, height: number, imageA: string, georeferenced: boolean): Promise<'geotiff' | 'png'> {
  const ext = /\.([a-z]+)$/i.exec(out)?.[1]?.toLowerCase() ?? '';
  const asTiff = ext === 'tif' || ext === 'tiff' ? true : ext === 'png' ? false : georeferenced;
  if (asTiff && !georeferenced) {
    throw new VantageError('BAD_INPUT', `--mask-out ${out}: ${imageA} is not georeferenced, so the mask cannot be a GeoTIFF; name a .png file`);
  }
  if (!asTiff && ext !== 'png' && ext !== '') {
    throw new VantageError('BAD_INPUT', `--mask-out ${out}: the mask is written as .tif (GeoTIFF) or .png`);
  }
  const bytes = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) bytes[i] = mask[i] ? 255 : 0;
  if (asTiff) {
    await writeFile(out, encodeByteTiff(bytes, width, height, await readGeoTags(imageA)));
    return 'geotiff';
  }
  await sharp(bytes, { raw: { width, height, channels: 1 } }).png({ compressionLevel: 6 }).toFile(out);
  return 'png';
}
