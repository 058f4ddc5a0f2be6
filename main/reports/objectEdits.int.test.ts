import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeRle, maskBounds, vectorizeMask } from '../analysis/maskVectorizer.js';
import { ringMask } from '../analysis/testMasks.js';
import { OBJECT_COLOURS } from '../contract/objectStyle.js';
import { remeasureCase } from '../masks/measure.js';
import { ObjectEditService } from '../masks/objectEdits.js';
import { describeWithData } from '../testing/data.js';
import { reportCase } from '../testing/reportFixture.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';

/**
 * Objects the analyst manages, as the exports see them: a deleted object is in no GeoJSON, GeoPackage or PDF (and
 * back after undo), a renamed one carries its new name everywhere, and each keeps the colour it was stored with —
 * the legend swatch of the second object stays teal when the first is deleted (colours are not places in a list).
 */
describeWithData('objects: delete with undo, rename and colours in GeoJSON, GeoPackage and PDF', [IMAGE], ([file]) => {
  let fx: Awaited<ReturnType<typeof reportCase>>;
  let edits: ObjectEditService;
  const ids: string[] = [];

  beforeAll(async () => {
    fx = await reportCase('vantage-objedit-', 'Objects', file!);
    const { repo, imageId, sessionId } = fx;
    edits = new ObjectEditService(repo);
    const q1 = repo.addQuestion({ sessionId, imageId, text: 'outline the first building near the quay', regions: [] });
    const q2 = repo.addQuestion({ sessionId, imageId, text: 'and the two piers?', regions: [] });
    const put = (turnId: string, x0: number, phrase: string | null) => {
      const mask = ringMask(64, 28, 14);
      const b = maskBounds(mask)!;
      ids.push(repo.addMask({
        turnId, imageId, regionId: null, phrase, score: 0.9,
        bbox: [x0 + b[0] * 2, 200 + b[1] * 2, x0 + b[2] * 2, 200 + b[3] * 2],
        rle: { width: 64, height: 64, origin: [x0, 200], runs: encodeRle(mask) },
        polygons: vectorizeMask(mask, { x0, y0: 200, sx: 2, sy: 2 }),
        areaPx: mask.data.reduce((t, v) => t + v, 0) * 4,
      }).id);
    };
    put(q1.assistantTurnId, 200, null);
    put(q2.assistantTurnId, 340, null);
    put(q2.assistantTurnId, 480, null);
    for (const q of [q1, q2]) repo.finishTurn(q.assistantTurnId, { text: '<SEG>', status: 'complete', durationMs: 1, pack: null, provider: 'cpu' });
    remeasureCase(repo, sessionId);
  });

  afterAll(() => fx.close());

  const geojsonLabels = async (name: string) => {
    const out = path.join(fx.dir, name);
    mkdirSync(out);
    const r = await fx.service.export({ sessionId: fx.sessionId, kind: 'geojson', folderPath: out, simplifyM: 0 });
    const doc = JSON.parse(readFileSync(path.join(out, r.fileName), 'utf8')) as { features: { properties: { mask_id: string; label: string } }[] };
    return doc.features.map((f) => f.properties.label);
  };

  it('labels objects without a phrase by their question, the masks of one answer told apart', async () => {
    expect(fx.service.objects(fx.sessionId).objects.map((o) => o.label)).toEqual(['outline the first building near the quay', 'and the two piers?', 'and the two piers? (2)']);
  });

  it('leaves a deleted object out of every export, and undo brings it back exactly', async () => {
    const before = fx.service.objects(fx.sessionId);
    edits.delete(ids[1]!);
    expect(await geojsonLabels('g1')).toEqual(['outline the first building near the quay', 'and the two piers? (2)']);
    const gpkgDir = path.join(fx.dir, 'k1');
    mkdirSync(gpkgDir);
    const g = await fx.service.export({ sessionId: fx.sessionId, kind: 'gpkg', folderPath: gpkgDir, simplifyM: 0 });
    expect(execFileSync('ogrinfo', ['-so', '-al', path.join(gpkgDir, g.fileName)], { encoding: 'utf8' })).toContain('Feature Count: 2');
    edits.restore(ids[1]!);
    expect(fx.service.objects(fx.sessionId)).toEqual(before);
  });

  it('renames into the GeoJSON and GeoPackage attributes; a blank name gives the derived one back', async () => {
    edits.update(ids[0]!, { label: '  Warehouse   7 ' });
    expect((await geojsonLabels('g2'))[0]).toBe('Warehouse 7');
    const gpkgDir = path.join(fx.dir, 'k2');
    mkdirSync(gpkgDir);
    const g = await fx.service.export({ sessionId: fx.sessionId, kind: 'gpkg', folderPath: gpkgDir, simplifyM: 0 });
    expect(execFileSync('ogrinfo', ['-al', '-q', path.join(gpkgDir, g.fileName)], { encoding: 'utf8' })).toMatch(/label \(String\) = Warehouse 7/);
    edits.update(ids[0]!, { label: ' ' });
    expect((await geojsonLabels('g3'))[0]).toBe('outline the first building near the quay');
    edits.update(ids[0]!, { label: 'Warehouse 7' });
  });

  it('PDF: a deleted object is gone; the others keep their own colour and name in the legend', async () => {
    edits.delete(ids[1]!);
    edits.update(ids[2]!, { colour: '#123456' });
    const out = path.join(fx.dir, 'pdf');
    mkdirSync(out);
    const r = await fx.service.export({ sessionId: fx.sessionId, kind: 'pdf', folderPath: out, simplifyM: 0, title: 'Objects', extent: { kind: 'case' } });
    const pdf = path.join(out, r.fileName);
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    const legend = text.slice(text.indexOf('Legend'), text.indexOf('region prompt'));
    expect(legend).toContain('1. Warehouse 7');
    expect(legend).toContain('2. and the two piers? (2)');
    expect(legend.match(/\d\. /g)).toHaveLength(2);
    // each swatch (10 × 9 pt, 14 pt left of its label) in the object's stored colour
    const bbox = execFileSync('pdftotext', ['-bbox', '-f', '1', '-l', '1', pdf, '-'], { encoding: 'utf8' });
    const words = [...bbox.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)<\/word>/g)].map((m) => ({ x: +m[1]!, y: +m[2]!, w: m[3]! }));
    const legendY = words.find((w) => w.w === 'Legend')!.y;
    const dpi = 144;
    execFileSync('pdftoppm', ['-png', '-r', String(dpi), '-f', '1', '-l', '1', '-singlefile', pdf, path.join(out, 'page')]);
    const { data, info } = await sharp(path.join(out, 'page.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (const [n, colour] of [['1.', OBJECT_COLOURS[0]], ['2.', '#123456']] as const) {
      const label = words.find((w) => w.w === n && w.y > legendY)!;
      expect(label, `legend entry ${n}`).toBeDefined();
      const o = (Math.round(((label.y + 4) * dpi) / 72) * info.width + Math.round(((label.x - 9) * dpi) / 72)) * 3;
      expect(`#${[data[o]!, data[o + 1]!, data[o + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`, `legend swatch ${n}`).toBe(colour);
    }
    edits.restore(ids[1]!);
  });

  it('a new object takes a free colour and repaints none of the others', () => {
    const colours = fx.repo.listMasks(fx.sessionId).map((m) => m.colour);
    expect(colours).toEqual([OBJECT_COLOURS[0], OBJECT_COLOURS[1], '#123456']);
    const q = fx.repo.addQuestion({ sessionId: fx.sessionId, imageId: fx.imageId, text: 'the crane', regions: [] });
    const mask = fx.repo.getMask(ids[0]!);
    const added = fx.repo.addMask({ turnId: q.assistantTurnId, imageId: fx.imageId, regionId: null, phrase: 'crane', score: 1, bbox: mask.bbox, rle: fx.repo.listMaskRecords(fx.sessionId)[0]!.rle, polygons: mask.polygons, areaPx: mask.areaPx });
    expect(added.colour).toBe(OBJECT_COLOURS[2]);
    expect(fx.repo.listMasks(fx.sessionId).map((m) => m.colour)).toEqual([...colours, OBJECT_COLOURS[2]]);
  });
});
