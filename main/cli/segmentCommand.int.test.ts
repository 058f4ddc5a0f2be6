import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-cli-segment-'));
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const vantage = (...args: string[]) => run(process.execPath, [cli, '--data-dir', dataDir, ...args], { cwd: repoRoot, maxBuffer: 1 << 24 });

interface SegmentJson {
  sessionId: string | null;
  total: number;
  masks: number;
  skippedOutside: number;
  stats: { tiles: number; tilesNew: number; tilesCached: number; cachedPrompts: number; msPerPrompt: number };
  features: { index: number; label: string; kind: string; areaPx: number; score: number; maskId: string | null }[];
}

describeWithData('vantage segment --prompts on a real GeoTIFF', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  it('runs a GeoJSON of points and polygons, prints per-feature area/score and a summary, --save stores the masks', async () => {
    const px: [number, number][] = [[400, 350], [300, 300], [700, 100], [520, 20], [620, 120], [-500, -500]];
    const ll = execFileSync('gdaltransform', ['-t_srs', 'EPSG:4326', '-output_xy', file!], { input: px.map((p) => p.join(' ')).join('\n') + '\n', encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    const geojson = path.join(dataDir, 'survey.geojson');
    writeFileSync(
      geojson,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', properties: { id: 'A' }, geometry: { type: 'Point', coordinates: ll[0] } },
          { type: 'Feature', properties: { name: 'B' }, geometry: { type: 'Point', coordinates: ll[1] } },
          { type: 'Feature', properties: { id: 'C' }, geometry: { type: 'Point', coordinates: ll[2] } },
          { type: 'Feature', properties: { id: 'D' }, geometry: { type: 'Polygon', coordinates: [[ll[3], [ll[4]![0], ll[3]![1]], ll[4], [ll[3]![0], ll[4]![1]], ll[3]]] } },
          { type: 'Feature', properties: { id: 'far' }, geometry: { type: 'Point', coordinates: ll[5] } },
        ],
      }),
    );
    const text = (await vantage('segment', file!, '--prompts', geojson, '--pack', builtinPackDir())).stdout;
    expect(text).toMatch(/#0 "A" point: area \d+ px score 0\.\d{3}/);
    expect(text).toMatch(/#3 "D" box: /);
    expect(text).toMatch(/masks from 5 prompts · 1 outside the image \(skipped\) · \d+ empty · [\d.]+ ms per prompt · tiles 2 new, 0 cached · not saved \(use --save\)/);

    const out = JSON.parse((await vantage('segment', file!, '--prompts', geojson, '--pack', builtinPackDir(), '--save', '--json')).stdout) as SegmentJson;
    expect(out).toMatchObject({ total: 5, skippedOutside: 1 });
    expect(out.sessionId).toMatch(/\S+/);
    expect(out.features.map((f) => [f.label, f.kind])).toEqual([['A', 'point'], ['B', 'point'], ['C', 'point'], ['D', 'box']]);
    expect(out.stats.cachedPrompts).toBeGreaterThanOrEqual(2); // A and B share a tile, C and D another
    expect(out.masks).toBeGreaterThan(0);
    // the case has them, as measured objects with the feature ids as labels
    const shown = JSON.parse((await vantage('sessions', 'show', out.sessionId!, '--json')).stdout) as unknown;
    const ids = out.features.flatMap((f) => (f.maskId ? [f.maskId] : []));
    expect(ids.length).toBe(out.masks);
    for (const id of ids) expect(JSON.stringify(shown)).toContain(id);

    // bad input: a clear message and exit code 1
    const broken = path.join(dataDir, 'broken.geojson');
    writeFileSync(broken, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[0, 0], [1, 1]] } }] }));
    await expect(vantage('segment', file!, '--prompts', broken, '--pack', builtinPackDir())).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('feature 0 (feature 1): LineString geometries are not prompts'),
    });
    await expect(vantage('segment', file!)).rejects.toMatchObject({ stderr: expect.stringContaining('missing --prompts') });
  }, 120_000);
});
