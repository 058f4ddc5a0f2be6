import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImageryService } from '../../../main/imagery/imageryService.js';
import { planViews, type Rect } from '../../../main/inference/viewPlanner.js';
import { readViewRgb, type ReadRgb, type ViewPixelsSpec } from '../../../main/inference/viewResample.js';
import { findData } from '../../../main/testing/dataRoot.js';
import { describeRequiring } from '../../../main/testing/data.js';

/**
 * LLaVA-1.5 / GeoChat image preprocessing: the app's view (the global view planned with view.pad 'square', read
 * through the imagery service and resized by viewResample.ts with view.resample 'bicubic') against the upstream
 * processors' output on real images — LLaVA's process_images (pad, CLIPImageProcessor 336 px) and GeoChat's own
 * process_images (pad, 504 px) — within one grey level (the fixture holds the upstream pixel_values turned back
 * into grey levels: sha256, 4-px band means and 8×8 crops; clip_preprocess_fixtures.py).
 * Negative tests: the contract-v1 view (nearest, stretched, outside black) and a bicubic view without the
 * pad-to-square both fail the same check.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
type Case = {
  name: string; pipeline: 'llava15' | 'geochat'; file: string; crop: [number, number, number, number] | null; width: number; height: number;
  size: number; sha256: string; rowBands: number[]; colBands: number[]; crops: { x: number; y: number; rgb: string }[];
};
const fx = JSON.parse(readFileSync(path.join(here, 'clip_fixtures', 'clip_preprocess.json'), 'utf8')) as { mean: number[]; band: number; cases: Case[]; upstream: Record<string, string> };
const files = [...new Set(fx.cases.map((c) => c.file))];
const { paths, missing } = findData(files);

/** worst |ours − upstream| in grey levels over the 8×8 crops and over the 4-px band means */
function compare(c: Case, rgb: Uint8Array): { crop: number; band: number; exact: boolean } {
  const S = c.size, B = fx.band;
  let crop = 0;
  for (const k of c.crops) {
    const want = Buffer.from(k.rgb, 'base64');
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) for (let ch = 0; ch < 3; ch++)
      crop = Math.max(crop, Math.abs(rgb[((k.y + y) * S + k.x + x) * 3 + ch]! - want[(y * 8 + x) * 3 + ch]!));
  }
  let band = 0;
  for (let i = 0; i < S / B; i++) {
    const row = [0, 0, 0], col = [0, 0, 0];
    for (let a = i * B; a < (i + 1) * B; a++) for (let b = 0; b < S; b++) for (let ch = 0; ch < 3; ch++) {
      row[ch]! += rgb[(a * S + b) * 3 + ch]!;
      col[ch]! += rgb[(b * S + a) * 3 + ch]!;
    }
    for (let ch = 0; ch < 3; ch++) {
      band = Math.max(band, Math.abs(row[ch]! / (B * S) - c.rowBands[i * 3 + ch]!), Math.abs(col[ch]! / (B * S) - c.colBands[i * 3 + ch]!));
    }
  }
  return { crop, band, exact: createHash('sha256').update(rgb).digest('hex') === c.sha256 };
}

describeRequiring('LLaVA-1.5 / GeoChat preprocessing vs the upstream processors on real images', missing, () => {
  let imagery: ImageryService;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    imagery = new ImageryService({});
    for (const [i, f] of files.entries()) {
      ids.set(f, `clip-${i}`);
      await imagery.register(`clip-${i}`, paths[i]!);
    }
  }, 120_000);
  afterAll(async () => {
    await imagery?.close();
  });

  /** the case's image (or its crop) as the app reads it */
  const source = (c: Case): ReadRgb => {
    const [cx, cy] = c.crop ?? [0, 0];
    return (r: Rect, w, h) => imagery.readRgb(ids.get(c.file)!, [r[0] + cx, r[1] + cy, r[2] + cx, r[3] + cy], w, h);
  };
  const spec = (c: Case, over: Partial<ViewPixelsSpec> = {}): ViewPixelsSpec => ({ size: c.size, resample: 'bicubic', pad: 'square', mean: fx.mean, ...over });
  const globalRect = (c: Case, pad: 'none' | 'square') => planViews(c.width, c.height, { size: c.size, maxViews: 1, maxImagePixels: 1e8, pad }, []).views[0]!;

  it(`the app's views equal ${fx.upstream.llava!.split(' ')[0]} / ${fx.upstream.geochat!.split(' ')[0]} (${fx.upstream.processor}) within one grey level`, async () => {
    expect(fx.cases.length).toBe(10);
    const lines: string[] = [];
    const results: [string, number, number][] = [];
    for (const c of fx.cases) {
      const rgb = await readViewRgb(source(c), c.width, c.height, globalRect(c, 'square'), spec(c));
      const r = compare(c, rgb);
      lines.push(`${c.pipeline} ${c.name} ${c.width}×${c.height} → ${c.size}: crops max |Δ| ${r.crop}, band means max |Δ| ${r.band.toFixed(3)}${r.exact ? ', bit-identical (sha256)' : ''}`);
      results.push([c.name, r.crop, r.band]);
    }
    console.log(lines.join('\n'));
    for (const [name, crop, band] of results) {
      expect(crop, name).toBeLessThanOrEqual(1);
      expect(band, name).toBeLessThanOrEqual(1);
    }
  });

  it('negative tests: the nearest/stretched contract-v1 view and a bicubic view without pad-to-square both fail', async () => {
    const lines: string[] = [];
    for (const c of fx.cases) {
      const v1 = compare(c, await readViewRgb(source(c), c.width, c.height, globalRect(c, 'none'), spec(c, { resample: 'nearest', pad: 'none' })));
      let line = `${c.pipeline} ${c.name}: nearest+stretch crops ${v1.crop}, bands ${v1.band.toFixed(1)}`;
      expect(Math.max(v1.crop, v1.band), `${c.name} nearest`).toBeGreaterThan(1);
      if (c.width !== c.height) {
        const noPad = compare(c, await readViewRgb(source(c), c.width, c.height, globalRect(c, 'none'), spec(c, { pad: 'none' })));
        line += `; bicubic without pad crops ${noPad.crop}, bands ${noPad.band.toFixed(1)}`;
        expect(Math.max(noPad.crop, noPad.band), `${c.name} without pad`).toBeGreaterThan(1);
      }
      lines.push(line);
    }
    console.log(lines.join('\n'));
  });
});
