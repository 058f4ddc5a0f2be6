// Labelled objects for scoring box-prompted masks (npm run bench:masks and the classical-mask integration test):
// the building footprints of a SpaceNet tile (labels.geojson, the tile's own CRS) and the instances of an iSAID image
// (label_instance_id_RGB.png, one RGB triple per instance), each as a binary raster on the image's pixel grid with
// its bounding box (the box prompt).
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { createPixelTransform, type XY } from '../../contract/georef.js';
import type { ImageInfo } from '../../contract/index.js';
import type { MaskOut } from '../../inference/protocol.js';

export interface LabelledObject {
  id: string;
  /** [x0, y0, x1, y1] image px: the smallest box holding the object's pixels */
  box: [number, number, number, number];
  /** width × height, 1 = the object */
  truth: Uint8Array;
  areaPx: number;
}

/** pixels whose centre lies inside the rings (even-odd: holes stay out) */
export function rasteriseRings(rings: XY[][], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    const xs: number[] = [];
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i]!;
        const [xj, yj] = ring[j]!;
        if (yi > cy !== yj > cy) xs.push(xi + ((cy - yi) * (xj - xi)) / (yj - yi));
      }
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const a = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const b = Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5));
      for (let x = a; x <= b; x++) out[y * width + x] = 1;
    }
  }
  return out;
}

function withBox(id: string, truth: Uint8Array, width: number, height: number): LabelledObject | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, area = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!truth[y * width + x]) continue;
      area++;
      if (x < x0) x0 = x;
      if (y < y0) y0 = y;
      if (x + 1 > x1) x1 = x + 1;
      if (y + 1 > y1) y1 = y + 1;
    }
  return area === 0 ? null : { id, box: [x0, y0, x1, y1], truth, areaPx: area };
}

/** SpaceNet: every Polygon/MultiPolygon of labels.geojson (in the image's CRS) rasterised on the image grid */
export function spacenetObjects(geojsonFile: string, info: ImageInfo): LabelledObject[] {
  const doc = JSON.parse(readFileSync(geojsonFile, 'utf8')) as { features: { properties?: Record<string, unknown>; geometry: { type: string; coordinates: unknown } | null }[] };
  const t = createPixelTransform(info);
  const out: LabelledObject[] = [];
  doc.features.forEach((f, i) => {
    const g = f.geometry;
    if (!g) return;
    const polys = (g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : []) as number[][][][];
    const rings = polys.flatMap((p) => p.map((ring) => ring.map((c) => t.crsToPixel([c[0]!, c[1]!]))));
    const o = withBox(`building ${i + 1}`, rasteriseRings(rings, info.width, info.height), info.width, info.height);
    if (o) out.push(o);
  });
  return out;
}

/** iSAID: one object per distinct non-black RGB triple of the instance-id image */
export async function isaidObjects(instanceIdPng: string): Promise<{ width: number; height: number; objects: LabelledObject[] }> {
  const { data, info } = await sharp(instanceIdPng).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const ids = new Map<number, Uint8Array>();
  for (let i = 0; i < width * height; i++) {
    const key = (data[i * 3]! << 16) | (data[i * 3 + 1]! << 8) | data[i * 3 + 2]!;
    if (key === 0) continue;
    let m = ids.get(key);
    if (!m) ids.set(key, (m = new Uint8Array(width * height)));
    m[i] = 1;
  }
  const objects = [...ids.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([key, m]) => withBox(`instance #${key.toString(16).padStart(6, '0')}`, m, width, height))
    .filter((o): o is LabelledObject => o !== null);
  return { width, height, objects };
}

/** a mask as the pipeline gives it (size×size over rect) on the image's pixel grid: a pixel is in when its centre's cell is */
export function maskOnImage(m: Pick<MaskOut, 'data' | 'size' | 'rect'>, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const [x0, y0, x1, y1] = m.rect;
  const sx = m.size / (x1 - x0);
  const sy = m.size / (y1 - y0);
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(height, Math.ceil(y1)); y++) {
    const j = Math.floor((y + 0.5 - y0) * sy);
    if (j < 0 || j >= m.size) continue;
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(width, Math.ceil(x1)); x++) {
      const i = Math.floor((x + 0.5 - x0) * sx);
      if (i >= 0 && i < m.size && m.data[j * m.size + i]) out[y * width + x] = 1;
    }
  }
  return out;
}

/** the box itself as a mask: the reference a segmenter has to beat on box prompts */
export function boxMask(box: [number, number, number, number], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = box[1]; y < box[3]; y++) out.fill(1, y * width + box[0], y * width + box[2]);
  return out;
}

export function maskIou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0, uni = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) uni++;
  }
  return uni === 0 ? 1 : inter / uni;
}
