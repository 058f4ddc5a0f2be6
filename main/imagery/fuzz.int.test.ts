import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { VantageError } from '../contract/errors.js';
import { describeWithData } from '../testing/data.js';
import { LruCache } from './lruCache.js';
import { OpenImage } from './openImage.js';
import type { WindowData } from './rasterSource.js';
import { mutate, rng } from './fuzzMutations.js';
import { TestTiffDir } from './testTiff.js';

/** Real files of each layout: striped, tiled COG with overviews and masks, JPEG-YCbCr, GCP-only, paletted, float. */
const FILES = [
  'imagery/crs_edge/goes.tif',
  'imagery/thermal/landsat8_B10_tirs_utm17n.TIF',
  'imagery/optical_3857/cogeo.tif',
  'imagery/dtypes/landsat7_B1_float64_equal_earth.tif',
  'imagery/large_cog/landcover_palette_cog_3857.tif',
  'imagery/sar/spacenet6_sar_quadpol_db_float32.tif',
  'imagery/sar/S1A_GRD_uint16_gcps_cog.tif',
  'imagery/sar/S1A_SLC_cint16_gcps.tif',
];
const CASES_PER_FILE = Number(process.env.FUZZ_CASES ?? 260); // 8 files → 2,080 cases
/** a single case taking longer than this is a hang */
const CASE_LIMIT_MS = 5_000;

const tmp = new TestTiffDir();
afterAll(() => tmp.remove());

/** open (facts, georeferencing) and decode a corner block of the full-res and the smallest level */
async function exercise(file: string): Promise<void> {
  const img = await OpenImage.open(file, new LruCache<WindowData>(32 * 1024 * 1024));
  try {
    for (const level of new Set([0, img.source.levels.length - 1])) {
      const lv = img.source.levels[level]!;
      await img.source.readWindow(level, [0, 0, Math.min(32, lv.width), Math.min(32, lv.height)], [0]);
    }
  } finally {
    await img.close();
  }
}

function withLimit<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} took over ${CASE_LIMIT_MS} ms`)), CASE_LIMIT_MS);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

describeWithData('fuzz: corrupted real files give typed errors, never crashes or hangs', FILES, (paths) => {
  it(`${FILES.length * CASES_PER_FILE} mutated files`, async () => {
    const untyped: string[] = [];
    let typed = 0;
    let opened = 0;
    for (const [fi, src] of paths.entries()) {
      const bytes = readFileSync(src);
      const tf = performance.now();
      for (let c = 0; c < CASES_PER_FILE; c++) {
        const seed = fi * 100_000 + c;
        const { bytes: m, how } = mutate(bytes, rng(seed));
        const f = path.join(tmp.dir, `case.tif`);
        writeFileSync(f, m);
        if (process.env.FUZZ_TRACE) writeFileSync(process.env.FUZZ_TRACE, `${path.basename(src)} seed ${seed} (${how})\n`, { flag: 'a' });
        const t0 = performance.now();
        try {
          await withLimit(exercise(f), `${path.basename(src)} seed ${seed} (${how})`);
          opened++;
        } catch (e) {
          if (e instanceof VantageError && ['BAD_INPUT', 'UNSUPPORTED', 'NOT_FOUND'].includes(e.code) && e.message.length > 20) typed++;
          else untyped.push(`${path.basename(src)} seed ${seed} (${how}): ${(e as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}`);
        }
        const ms = performance.now() - t0;
        if (process.env.FUZZ_SLOW && ms > 100) console.log(`slow ${ms.toFixed(0)} ms ${path.basename(src)} seed ${seed} (${how})`);
      }
      if (process.env.FUZZ_SLOW) console.log(`${path.basename(src)}: ${((performance.now() - tf) / CASES_PER_FILE).toFixed(1)} ms/case`);
    }
    expect(untyped.slice(0, 10)).toEqual([]);
    expect(typed + opened).toBe(FILES.length * CASES_PER_FILE);
    // the mutations must actually break files, or the test proves nothing
    expect(typed).toBeGreaterThan(FILES.length * CASES_PER_FILE * 0.2);
  }, 120_000);

  it('WEBP-compressed TIFF: a specific message naming the codec and the fix', async () => {
    const webp = path.join(tmp.dir, 'webp.tif');
    execFileSync('gdal_translate', ['-q', '-co', 'COMPRESS=WEBP', paths[2]!, webp]);
    await expect(exercise(webp)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/WEBP-compressed.*gdal_translate/) });
  });
});
