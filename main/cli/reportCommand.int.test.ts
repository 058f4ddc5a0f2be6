import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
  dataDir = mkdtempSync(path.join(tmpdir(), 'vantage-report-cli-'));
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const vantage = (...args: string[]) => run(process.execPath, [cli, '--data-dir', dataDir, ...args], { cwd: repoRoot, maxBuffer: 1 << 24 });

it('report without --session explains what it needs', async () => {
  await expect(vantage('report')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--session ID is required/) });
});

describeWithData('vantage report on a case made by vantage ask', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  it('writes GeoJSON, GeoPackage and PDF that GDAL and poppler read back', async () => {
    const ask = JSON.parse((await vantage('ask', file!, '--pack', builtinPackDir(), '--box', '300,300,500,450', '--mode', 'ground', '--save', '--json', 'segment <region1>')).stdout) as { sessionId: string; masks: unknown[] };
    expect(ask.masks.length).toBeGreaterThan(0);
    const out = path.join(dataDir, 'out');
    execFileSync('mkdir', ['-p', out]);
    const { stdout } = await vantage('report', '--session', ask.sessionId, '--geojson', path.join(out, 'a.geojson'), '--gpkg', path.join(out, 'a.gpkg'), '--pdf', path.join(out, 'a.pdf'), '--json');
    const r = JSON.parse(stdout) as { objects: { areaM2: number; label: string }[]; written: { kind: string; featureCount: number }[] };
    expect(r.objects).toHaveLength(ask.masks.length);
    expect(r.objects[0]!.areaM2).toBeGreaterThan(0);
    expect(r.written.map((w) => w.kind)).toEqual(['geojson', 'gpkg', 'pdf']);
    expect(readdirSync(out).sort()).toEqual(['a.geojson', 'a.gpkg', 'a.pdf']); // no temporary files left behind
    for (const f of ['a.geojson', 'a.gpkg']) {
      expect(execFileSync('ogrinfo', ['-so', '-al', path.join(out, f)], { encoding: 'utf8' })).toContain(`Feature Count: ${ask.masks.length}`);
    }
    expect(execFileSync('pdftotext', [path.join(out, 'a.pdf'), '-'], { encoding: 'utf8' })).toContain('vantage-test-pack');

    // --extent: the PDF map at a lon/lat box (the middle of the image's footprint, from GDAL), titled
    const ring = (JSON.parse(execFileSync('gdalinfo', ['-json', file!], { encoding: 'utf8' })) as { wgs84Extent: { coordinates: number[][][] } }).wgs84Extent.coordinates[0]!;
    const lons = ring.map((p) => p[0]!);
    const lats = ring.map((p) => p[1]!);
    const mid = (v: number[], f: number) => Math.min(...v) + f * (Math.max(...v) - Math.min(...v));
    const extent = [mid(lons, 0.3), mid(lats, 0.3), mid(lons, 0.7), mid(lats, 0.7)].join(',');
    await vantage('report', '--session', ask.sessionId, '--pdf', path.join(out, 'b.pdf'), '--extent', extent, '--title', 'Middle third');
    const text = execFileSync('pdftotext', [path.join(out, 'b.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    expect(text).toContain('Middle third');
    expect(text).toContain(`Map extent: chosen view, lon ${mid(lons, 0.3).toFixed(5)} to ${mid(lons, 0.7).toFixed(5)}`);
    await expect(vantage('report', '--session', ask.sessionId, '--pdf', path.join(out, 'c.pdf'), '--extent', '10,20,5,30')).rejects.toMatchObject({
      stderr: expect.stringMatching(/--extent expects minLon,minLat,maxLon,maxLat/),
    });
    expect(existsSync(path.join(out, 'c.pdf'))).toBe(false);
  }, 60_000);
});
