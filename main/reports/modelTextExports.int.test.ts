import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeRle, maskBounds, vectorizeMask } from '../analysis/maskVectorizer.js';
import { ringMask } from '../analysis/testMasks.js';
import { objectColour } from '../contract/objectStyle.js';
import { remeasureCase } from '../masks/measure.js';
import { describeWithData } from '../testing/data.js';
import { reportCase } from '../testing/reportFixture.js';
import type { ReportService } from './reportService.js';

const IMAGE = 'imagery/optical_utm/RGB.byte.tif';
/** raw model markup as the test pack writes it: none of it may reach a report or an attribute */
const MARKUP = /<\/?p>|<SEG>|<\/s>|<region\d>/;

/**
 * Model output in exports: the PDF's Conversation, legend and GeoJSON attributes carry the cleaned text (the one
 * clean-text function), and each object's legend swatch is drawn in the colour the map gives it (contract/objectStyle).
 */
describeWithData('reports: model text cleaned, legend colours as on the map', [IMAGE], ([file]) => {
  let fx: Awaited<ReturnType<typeof reportCase>>;
  let dir: string;
  let service: ReportService;
  let sessionId: string;

  beforeAll(async () => {
    fx = await reportCase('vantage-modeltext-', 'Markup survey', file!);
    ({ dir, service, sessionId } = fx);
    const { repo, imageId } = fx;
    const q = repo.addQuestion({ sessionId, imageId, text: 'what is in <region1>?', regions: [{ geometry: { kind: 'box', x0: 280, y0: 180, x1: 560, y1: 460 }, wgs84: null }] });
    repo.finishTurn(q.assistantTurnId, {
      text: 'the image shows a <p> black building </p> <SEG> and <p> a pier </p> <SEG> .</s>',
      status: 'complete', durationMs: 5, pack: { name: 'test-pack', version: '0.1.0', sha256: 'ab'.repeat(32), signature: 'unsigned' }, provider: 'cpu',
    });
    // phrases as an imported (foreign) case may carry them: with markup left in
    ([['<p> black building </p> <SEG>', 300], ['a <p> pier', 420]] as const).forEach(([phrase, x0]) => {
      const mask = ringMask(64, 28, 14);
      const b = maskBounds(mask)!;
      repo.addMask({
        turnId: q.assistantTurnId, imageId, regionId: q.regions[0]!.id, phrase, score: 0.9,
        bbox: [x0 + b[0] * 2, 200 + b[1] * 2, x0 + b[2] * 2, 200 + b[3] * 2],
        rle: { width: 64, height: 64, origin: [x0, 200], runs: encodeRle(mask) },
        polygons: vectorizeMask(mask, { x0, y0: 200, sx: 2, sy: 2 }),
        areaPx: mask.data.reduce((t, v) => t + v, 0) * 4,
      });
    });
    remeasureCase(repo, sessionId);
  });

  afterAll(() => fx.close());

  it('GeoJSON attributes (label, phrase, question, answer) carry no model markup', async () => {
    const out = path.join(dir, 'geojson');
    mkdirSync(out);
    const r = await service.export({ sessionId, kind: 'geojson', folderPath: out, simplifyM: 0 });
    const doc = JSON.parse(readFileSync(path.join(out, r.fileName), 'utf8')) as { features: { properties: Record<string, unknown> }[] };
    const props = doc.features.map((f) => f.properties);
    expect(props.map((p) => [p.label, p.phrase])).toEqual([['black building', 'black building'], ['a pier', 'a pier']]);
    expect(props[0]).toMatchObject({ question: 'what is in <region 1>?', answer: 'the image shows a black building and a pier.' });
    for (const p of props) for (const v of Object.values(p)) if (typeof v === 'string') expect(v).not.toMatch(MARKUP);
  });

  it('PDF: the Conversation reads as the chat does, and each legend swatch has the map colour of its object', async () => {
    const out = path.join(dir, 'pdf');
    mkdirSync(out);
    const r = await service.export({ sessionId, kind: 'pdf', folderPath: out, simplifyM: 0, title: 'Markup', analyst: 'A. Analyst', extent: { kind: 'case' } });
    const pdf = path.join(out, r.fileName);
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    const conversation = text.slice(text.indexOf('Conversation'));
    expect(conversation).toMatch(/the image shows a black building and a pier\./);
    expect(conversation).toMatch(/what is in <region 1>\?/);
    expect(text).not.toMatch(MARKUP);

    // the legend: "1. black building", "2. a pier"; each swatch 10 × 9 pt sits 14 pt left of its label
    const bbox = execFileSync('pdftotext', ['-bbox', '-f', '1', '-l', '1', pdf, '-'], { encoding: 'utf8' });
    const words = [...bbox.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)<\/word>/g)].map((m) => ({ x: +m[1]!, y: +m[2]!, w: m[3]! }));
    const legendY = words.find((w) => w.w === 'Legend')!.y;
    const dpi = 144;
    execFileSync('pdftoppm', ['-png', '-r', String(dpi), '-f', '1', '-l', '1', '-singlefile', pdf, path.join(out, 'page')]);
    const { data, info } = await sharp(path.join(out, 'page.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    for (const [n, index] of [['1.', 0], ['2.', 1]] as const) {
      const label = words.find((w) => w.w === n && w.y > legendY)!;
      expect(label, `legend entry ${n}`).toBeDefined();
      const px = Math.round(((label.x - 9) * dpi) / 72);
      const py = Math.round(((label.y + 4) * dpi) / 72);
      const o = (py * info.width + px) * 3;
      const got = `#${[data[o]!, data[o + 1]!, data[o + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
      expect(got, `legend swatch ${n}`).toBe(objectColour(index));
    }
  });
});
