import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createServices, type Services } from '../boot.js';
import type { ChangeResult } from '../contract/calls/change.js';
import type { ExportResult } from '../contract/calls/reports.js';
import { createPixelTransform } from '../contract/georef.js';
import { describeWithData } from '../testing/data.js';

const A = 'imagery/bitemporal_naip/naip_2009-08-18.tif';
const B = 'imagery/bitemporal_naip/naip_2020-08-31.tif';

describeWithData('reports of a two-date case: before/after PDF section, chosen extent, change provenance', [A, B], ([fileA, fileB]) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vantage-change-report-'));
  let services: Services | null = null;
  afterAll(async () => {
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes both dates, hashes and figures into the PDF and the vectors, and crops the map to the chosen extent', async () => {
    services = createServices({ dataDir: dir, mode: 'browser', log: () => undefined });
    const session = services.sessions.create('two dates report');
    const a = await services.sessions.openImage(session.id, fileA!);
    const b = await services.sessions.openImage(session.id, fileB!);
    const r = (await services.dispatcher.call('change.analyze', { sessionId: session.id, imageA: a.id, imageB: b.id, minArea: 1000 })) as ChangeResult;
    expect(r.stats.polygonCount).toBeGreaterThan(0);
    const rowA = services.repo.getImage(a.id);
    const rowB = services.repo.getImage(b.id);

    // the vectors carry both dates, ids and hashes
    const gj = path.join(dir, 'change.geojson');
    await services.reports.export({ sessionId: session.id, kind: 'geojson', simplifyM: 0, filePath: gj });
    const fc = JSON.parse(readFileSync(gj, 'utf8')) as { features: { properties: Record<string, unknown> }[] };
    expect(fc.features[0]!.properties).toMatchObject({
      before_image_id: a.id, before_date: '2009-08-18', before_image_sha256: rowA.sha256, before_image_name: 'naip_2009-08-18.tif',
      after_image_id: b.id, after_date: '2020-08-31', after_image_sha256: rowB.sha256, after_image_name: 'naip_2020-08-31.tif',
    });
    const gpkg = path.join(dir, 'change.gpkg');
    await services.reports.export({ sessionId: session.id, kind: 'gpkg', simplifyM: 0, filePath: gpkg });
    const info = execFileSync('ogrinfo', ['-ro', '-al', '-q', gpkg], { encoding: 'utf8' });
    expect(info).toContain(`after_image_sha256 (String) = ${rowB.sha256}`);
    expect(info).toContain('before_date (String) = 2009-08-18');

    // PDF at a chosen lon/lat extent (the middle quarter of A) with the before/after section
    const t = createPixelTransform(a);
    const [w, n] = t.pixelToLngLat([a.width * 0.25, a.height * 0.25]);
    const [e, s] = t.pixelToLngLat([a.width * 0.75, a.height * 0.75]);
    const pdf = path.join(dir, 'change.pdf');
    const res = (await services.dispatcher.call('reports.export', {
      sessionId: session.id, kind: 'pdf', title: 'Parcel 12 change', analyst: 'J. Doe', extent: { kind: 'wgs84', bbox: [w, s, e, n] },
    })) as ExportResult;
    await services.reports.export({ sessionId: session.id, kind: 'pdf', simplifyM: 0, filePath: pdf, title: 'Parcel 12 change', analyst: 'J. Doe', extent: { kind: 'wgs84', bbox: [w, s, e, n] } });
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    expect(text).toContain('Parcel 12 change');
    expect(text).toContain('analyst J. Doe');
    const m = /Map extent: chosen view.*?on naip_2009-08-18\.tif/.exec(text.replace(/\s+/g, ' '));
    expect(m).not.toBeNull();
    expect(text).toContain('Before / after: 2009-08-18 to 2020-08-31');
    expect(text).toMatch(/Before: naip_2009-08-18\.tif \(2009-08-18\)/);
    expect(text).toMatch(/After: naip_2020-08-31\.tif \(2020-08-31\)/);
    expect(text.replace(/\s+/g, ' ')).toContain(`Change polygons ${r.stats.polygonCount}`);
    expect(text.replace(/\s+/g, ' ')).toContain(`Threshold ${r.stats.threshold.toFixed(3)}`);
    expect(text.replace(/\s+/g, ' ')).toMatch(/Residual offset -?\d+\.\d\d, -?\d+\.\d\d px/);
    expect(text.replace(/\s+/g, '')).toContain(rowA.sha256);
    expect(text.replace(/\s+/g, '')).toContain(rowB.sha256);
    execFileSync('pdftoppm', ['-r', '60', '-png', pdf, path.join(process.env.VANTAGE_KEEP_RENDER ?? dir, 'change-report')]);

    // the title and analyst are kept with the stored report, for the export panel to start from
    const listed = services.reports.list(session.id).find((x) => x.id === res.id)!;
    expect(listed).toMatchObject({ title: 'Parcel 12 change', analyst: 'J. Doe' });

    // an extent off the image is refused with a message, nothing written
    await expect(
      services.reports.export({ sessionId: session.id, kind: 'pdf', simplifyM: 0, filePath: path.join(dir, 'off.pdf'), extent: { kind: 'wgs84', bbox: [10, 10, 10.1, 10.1] } }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/does not cover naip_2009-08-18\.tif/) });
    expect(() => readFileSync(path.join(dir, 'off.pdf'))).toThrow();
  }, 30_000);
});
