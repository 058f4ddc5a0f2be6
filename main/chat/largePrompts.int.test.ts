import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServices, type Services } from '../boot.js';
import type { BatchEvent, BatchResult } from '../contract/calls/chat.js';
import { createPixelTransform, type XY } from '../contract/georef.js';
import type { ChatEvent, ImageInfo, RegionGeometry } from '../contract/index.js';
import { testPackDir } from '../inference/testPackFixtures.js';
import { describeWithData } from '../testing/data.js';

/**
 * Large and Windows-written prompts through the real services (contract dispatcher, GeoTIFF, SQLite, worker, ORT,
 * PDF report): a 200,000-vertex polygon in a prompts file, in chat.ask and in the case's report; a prompts file
 * that starts with a UTF-8 byte order mark.
 */

const N = 200_000;

describeWithData('large prompts and BOM-prefixed prompt files', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  let tmp: string;
  let services: Services;
  let sessionId: string;
  let imageId: string;
  let info: ImageInfo;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vantage-large-prompts-'));
    services = createServices({ dataDir: path.join(tmp, 'data'), mode: 'browser', packDir: testPackDir });
    sessionId = services.sessions.create('large prompts').id;
    info = await services.sessions.openImage(sessionId, file!);
    imageId = info.id;
  }, 60_000);

  afterAll(async () => {
    await services?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** an N-vertex ellipse in image pixels (791×718 image) */
  const ellipse = (cx: number, cy: number, rx: number, ry: number): XY[] =>
    Array.from({ length: N }, (_, k): XY => [cx + rx * Math.cos((2 * Math.PI * k) / N), cy + ry * Math.sin((2 * Math.PI * k) / N)]);

  async function batchFile(name: string, text: string): Promise<BatchResult> {
    const p = path.join(tmp, name);
    writeFileSync(p, text);
    const events: BatchEvent[] = [];
    await services.dispatcher.subscribe('chat.batchMasks', { sessionId, imageId, file: services.files.refFor(p, 'file'), save: false }, (e) => events.push(e as BatchEvent), new AbortController().signal);
    const done = events.find((e) => e.type === 'done');
    if (done?.type !== 'done') throw new Error('no done event');
    return done.result;
  }

  it('a prompts file starting with a UTF-8 byte order mark is read', async () => {
    const lngLat = createPixelTransform(info).pixelToLngLat([400, 350]);
    const doc = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'pier' }, geometry: { type: 'Point', coordinates: lngLat } }] };
    const result = await batchFile('bom.geojson', `\uFEFF${JSON.stringify(doc)}`);
    expect(result.items.map((i) => i.label)).toEqual(['pier']);
    const g = result.items[0]!.geometry;
    expect(g.kind === 'point' && [Math.round(g.x), Math.round(g.y)]).toEqual([400, 350]);
  });

  it('a 200,000-vertex polygon in a prompts file becomes its bounding box', async () => {
    const t = createPixelTransform(info);
    const ring = ellipse(400, 350, 150, 100).map((p) => t.pixelToLngLat(p));
    const doc = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'field' }, geometry: { type: 'Polygon', coordinates: [[...ring, ring[0]]] } }] };
    const result = await batchFile('big.geojson', JSON.stringify(doc));
    const g = result.items[0]!.geometry;
    expect(g.kind).toBe('box');
    if (g.kind === 'box') expect([g.x0, g.y0, g.x1, g.y1].map(Math.round)).toEqual([250, 250, 550, 450]);
  });

  it('chat.ask takes a 200,000-vertex polygon and scribble, stores them, and the case report draws them', async () => {
    const polygon: RegionGeometry = { kind: 'polygon', points: ellipse(400, 350, 150, 100) };
    const scribble: RegionGeometry = { kind: 'scribble', points: ellipse(300, 300, 60, 40).slice(0, N / 2), width: 6 };
    const events: ChatEvent[] = [];
    await services.dispatcher.subscribe(
      'chat.ask',
      { sessionId, imageId, text: 'what is in <region1> and along <region2> ?', regions: [polygon, scribble], maxNewTokens: 8 },
      (e) => events.push(e as ChatEvent),
      new AbortController().signal,
    );
    const saved = events.find((e) => e.type === 'saved');
    expect(events.some((e) => e.type === 'done')).toBe(true);
    expect(saved?.type === 'saved' && saved.regions.map((r) => r.geometry.kind === 'polygon' || r.geometry.kind === 'scribble' ? r.geometry.points.length : 0)).toEqual([N, N / 2]);
    const pdf = path.join(tmp, 'large.pdf');
    await services.reports.export({ sessionId, kind: 'pdf', simplifyM: 0, filePath: pdf });
    expect(execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' })).toContain('large prompts');
  });
});
