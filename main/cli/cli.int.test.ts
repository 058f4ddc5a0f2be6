import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { builtinPackDir } from '../appPaths.js';
import { describeWithData, repoRoot } from '../testing/data.js';

const run = promisify(execFile);
const cli = path.join(repoRoot, 'dist', 'main', 'cli.mjs');
let dataDir: string;

beforeAll(async () => {
  if (!existsSync(cli)) await run(process.execPath, [path.join(repoRoot, 'main/build/build.mjs'), '--backend-only'], { cwd: repoRoot });
  dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-cli-'));
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const vantage = (...args: string[]) => run(process.execPath, [cli, '--data-dir', dataDir, ...args], { cwd: repoRoot, maxBuffer: 1 << 24 });

it('prints usage and refuses an unknown command with exit code 2', async () => {
  expect((await vantage('--help')).stdout).toMatch(/vantage \[--data-dir DIR\] <command>/);
  await expect(vantage('frobnicate')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command "frobnicate"/) });
});

it('names the missing file instead of failing obscurely', async () => {
  await expect(vantage('info', '/nonexistent/scene.tif')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/not found: \/nonexistent\/scene\.tif/) });
});

describeWithData('vantage info / ask on a real GeoTIFF', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  it('info --json reports size, bands, CRS and footprint', async () => {
    const { stdout } = await vantage('info', file!, '--json');
    const info = JSON.parse(stdout) as { width: number; height: number; bandCount: number; dtype: string; crs: { epsg: number }; footprint: unknown[] };
    expect(info).toMatchObject({ width: 791, height: 718, bandCount: 3, dtype: 'Byte', crs: { epsg: 32618 } });
    expect(info.footprint.length).toBeGreaterThan(4);
  });

  it('ask --box --save streams an answer from the test pack through onnxruntime-node and stores the case', async () => {
    const { stdout } = await vantage('ask', file!, '--pack', builtinPackDir(), '--box', '300,300,500,450', '--save', '--json', 'what is in <region1> ?');
    const out = JSON.parse(stdout) as {
      answer: string; provider: string; pack: { name: string }; masks: { bbox: number[]; areaPx: number }[]; sessionId: string;
      tokens: number; stageProviders: Record<string, string>; timings: { firstTokenMs: number; answerMs: number };
    };
    expect(out.answer.length).toBeGreaterThan(0);
    expect(out.provider).toBe('cpu');
    expect(out.pack.name).toBe('vantage-test-pack');
    expect(out.sessionId).toMatch(/\S+/);
    expect(out.tokens).toBeGreaterThan(0);
    expect(out.stageProviders).toMatchObject({ vision: 'cpu', decoder: 'cpu', pixel: 'cpu' });
    expect(out.timings.answerMs).toBeGreaterThan(0);
    for (const m of out.masks) {
      expect(m.areaPx).toBeGreaterThan(0);
      expect(m.bbox[2]).toBeLessThanOrEqual(791);
    }
    // without --save nothing is stored; greedy decoding gives the same answer
    const again = JSON.parse((await vantage('ask', file!, '--pack', builtinPackDir(), '--box', '300,300,500,450', '--json', 'what is in <region1> ?')).stdout) as { answer: string; sessionId: string | null };
    expect(again.answer).toBe(out.answer);
    expect(again.sessionId).toBeNull();
    // --save --session adds the turn to that case; every region kind and a task mode from the command line
    const seg = JSON.parse(
      (
        await vantage('ask', file!, '--save', '--session', out.sessionId, '--mode', 'segment', '--circle', '400,350,40', '--scribble', '100,100;150,120;200,110',
          '--polygon', '500,500;560,500;540,560', '--point', '20,30', '--max-tokens', '4', '--temperature', '0.7', '--top-p', '0.9', '--json', 'the field')
      ).stdout,
    ) as { sessionId: string; answer: string; rawAnswer: string; masks: { phrase: string | null; bbox: number[] }[] };
    expect(seg.sessionId).toBe(out.sessionId);
    // the answer as the analyst reads it; the model's own text beside it
    expect(seg.rawAnswer).toMatch(/^Sure, it is <SEG>/);
    expect(seg.answer).toMatch(/^Sure, it is\b/);
    expect(seg.answer).not.toMatch(/<SEG>|<p>|<\/p>|<\/s>/);
    // the terminal too: no model markup in the streamed text
    const plain = (await vantage('ask', file!, '--pack', builtinPackDir(), '--mode', 'segment', '--point', '400,350', '--max-tokens', '8', 'the field')).stdout;
    expect(plain).toMatch(/^Sure, it is\b/);
    expect(plain).not.toMatch(/<SEG>|<p>|<\/p>|<\/s>/);
    expect(seg.masks[0]?.phrase).toBe('the field');
    await expect(vantage('ask', file!, '--mode', 'relation', '--point', '10,10', 'how')).rejects.toMatchObject({ stderr: expect.stringMatching(/needs 2 region/) });
    await expect(vantage('ask', file!, '--scribble', '5,5', 'x')).rejects.toMatchObject({ stderr: expect.stringMatching(/--scribble needs at least 2 points/) });
  }, 120_000);
});

const PIXEL_FILES = [
  'imagery/thermal_l2/LC08_L2SP_008059_20191201_20200825_02_T1_ST_B10.TIF',
  'imagery/sar_db/sen1floods11_Spain_7370579_S1Hand_VV_VH_db.tif',
  'imagery/rgba/riotiler_hro_colorado_aerial_rgba.tif',
];

describeWithData('vantage info --pixel agrees with gdallocationinfo', PIXEL_FILES, ([st, sarDb, rgba]) => {
  type Px = { pixel: { x: number; y: number; values: (number | null)[]; valid: boolean; lonLat: [number, number]; mgrs: string; calibrated: { value: number; unit: string; quantity: string } | null }; sourceDecision: { kind: string } };
  const info = async (file: string, x: number, y: number) => JSON.parse((await vantage('info', file, '--pixel', `${x},${y}`, '--json')).stdout) as Px;
  /** GDAL's raw values at a pixel, and the pixel GDAL finds at our lon/lat */
  const gdal = async (file: string, x: number, y: number, lonLat: [number, number]) => {
    const values = (await run('gdallocationinfo', ['-valonly', file, String(x), String(y)])).stdout.trim().split('\n').map(Number);
    const back = (await run('gdallocationinfo', ['-wgs84', file, String(lonLat[0]), String(lonLat[1])])).stdout;
    const m = /Location: \((\d+)P,(\d+)L\)/.exec(back)!;
    return { values, at: [Number(m[1]), Number(m[2])] };
  };

  it('raw values, calibrated quantity with its unit, source kind and position per kind', async () => {
    // (one CLI start each: elevation is checked against GDAL in main/imagery/sourceKind.int.test.ts)
    for (const [file, x, y, kind, unit] of [[st!, 256, 256, 'thermal', 'K'], [sarDb!, 300, 200, 'sar', 'dB'], [rgba!, 5, 5, 'optical', null]] as const) {
      const r = await info(file, x, y);
      const g = await gdal(file, x, y, r.pixel.lonLat);
      expect(r.pixel.values.map((v) => Math.fround(v!))).toEqual(g.values.map((v) => Math.fround(v)));
      expect(g.at).toEqual([x, y]);
      expect(r.sourceDecision.kind).toBe(kind);
      expect(r.pixel.mgrs).toMatch(/^\d{1,2}[C-X][A-Z]{2}\d{10}$/);
      expect(r.pixel.calibrated?.unit ?? null).toBe(unit);
      // alpha 0 reads as transparent
      expect(r.pixel.valid).toBe(kind !== 'optical');
      if (kind === 'thermal') expect(r.pixel.calibrated!.value).toBeCloseTo(g.values[0]! * 0.00341802 + 149.0, 3);
      if (kind === 'sar') expect(r.pixel.calibrated!.value).toBeCloseTo(g.values[0]!, 4);
    }
    const text = (await vantage('info', st!, '--pixel', '256,256')).stdout;
    expect(text).toMatch(/calibrated\s+surface temperature 295\.59 K \(22\.44 °C\)/);
    await expect(vantage('info', st!, '--pixel', '9999,1')).rejects.toMatchObject({ stderr: expect.stringMatching(/^vantage: --pixel 9999,1 is outside LC08.*\(512 × 512 px/) });
  }, 60_000);
});
