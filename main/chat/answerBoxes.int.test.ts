import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { geochatBoxCorners } from '../contract/geochatBoxes.js';
import type { ChatEvent, Mask } from '../contract/index.js';
import { cleanModelText } from '../contract/modelText.js';
import { groundingViewOf } from '../inference/viewResample.js';
import type { Rect } from '../inference/viewPlanner.js';
import { measureMask } from '../masks/measure.js';
import { ModelService } from '../packs/modelService.js';
import { readCase } from '../reports/caseObjects.js';
import { buildGeojson } from '../reports/geojsonExport.js';
import { describeWithData } from '../testing/data.js';
import { modelServices } from '../testing/modelFixture.js';
import { GEOCHAT_TEST_BOX, GEOCHAT_TEST_BOX_GRID, makeGeochatTestPack } from '../../native-models/testpack/geochatMode.js';
import { ChatService } from './chatService.js';

/**
 * GeoChat answer boxes (PACK_CONTRACT.md "Answer boxes") through the real chat service: the test pack in GeoChat mode
 * (native-models/testpack/geochatMode.ts) in a real worker on onnxruntime-node, a real GeoTIFF, real SQLite, then
 * the case read for export. Chat-only pack: each box is stored as the turned box. Mixed pack (SAM stages): each box
 * is refined by the pixel decoder with the box as its prompt.
 */
describeWithData('GeoChat answer boxes become objects', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  let fx: Awaited<ReturnType<typeof modelServices>>;

  beforeAll(async () => {
    fx = await modelServices(file!, 'answer-boxes');
  });

  afterAll(async () => {
    await fx?.close();
  });

  async function askWith(packDir: string, mode: 'chat' | 'segment' = 'chat', text = 'segment the red building .') {
    const models = new ModelService(fx.host, { builtinDir: packDir, forcedDir: packDir });
    const chat = new ChatService(fx.repo, fx.sessions, fx.imagery, models, fx.host);
    const events: ChatEvent[] = [];
    await chat.ask(
      { sessionId: fx.sessionId, imageId: fx.imageId, text, regions: [], mode, maxNewTokens: 16 },
      (e) => events.push(e),
      new AbortController().signal,
    );
    const done = events.find((e) => e.type === 'done');
    return {
      answer: done?.type === 'done' ? done.turn.text : '',
      masks: events.flatMap((e) => (e.type === 'mask' ? [e.mask] : [])),
      status: models.status(),
    };
  }

  it('chat-only GeoChat pack: the box is stored as a turned polygon at its place, measured and exported', async () => {
    const dir = makeGeochatTestPack(path.join(fx.tmp, 'geochat'), { sam: false });
    const { answer, masks } = await askWith(dir);
    expect(answer).toContain(GEOCHAT_TEST_BOX);
    const boxes = answer.split(GEOCHAT_TEST_BOX).length - 1;
    expect(boxes).toBeGreaterThan(0);
    expect(masks).toHaveLength(boxes);
    expect(cleanModelText(answer)).not.toMatch(/[{}]/);

    const info = (await fx.sessions.imageOf(fx.sessionId, fx.imageId)).info;
    const rect = fx.host.planViews(info.width, info.height, [])[0]!;
    const corners = geochatBoxCorners(GEOCHAT_TEST_BOX_GRID, { rect });
    const m = masks[0]!;
    expect(m.phrase).toBeTruthy();
    const ring = m.polygons[0]![0]!;
    expect(ring).toHaveLength(5);
    ring.slice(0, 4).forEach(([x, y], i) => {
      expect(x).toBeCloseTo(corners[i]![0], 6);
      expect(y).toBeCloseTo(corners[i]![1], 6);
    });
    // area = w·h of the box in image px (rotation keeps it)
    const w = (0.3 * (rect[2] - rect[0])), h = 0.4 * (rect[3] - rect[1]);
    expect(m.areaPx).toBeCloseTo(w * h, 6);

    // measured and exported like any mask: geodesic area ≈ px area × pixel area, perimeter ≈ 2(w+h) × pixel size
    const snap = readCase(fx.repo, fx.sessionId);
    const obj = snap.objects.find((o) => o.mask.id === m.id)!;
    expect(obj.summary.problem).toBeNull();
    const gt = info.geotransform!;
    const px = Math.sqrt(Math.abs(gt[1]! * gt[5]!));
    expect(obj.summary.areaM2! / (w * h * px * px)).toBeCloseTo(1, 2);
    expect(obj.summary.perimeterM! / (2 * (w + h) * px)).toBeCloseTo(1, 2);
    // without SAM stages the pack still offers the modes that make objects (its boxes are the objects)
    expect(fx.host.capabilities.masks).toBe(false);
    expect(fx.host.capabilities.modes).toContain('segment');
    const refer = await askWith(dir, 'segment', 'the red building');
    console.log(`segment mode on the chat-only GeoChat pack: ${JSON.stringify(refer.answer)}, ${refer.masks.length} object(s)`);
    expect(refer.answer).toContain(GEOCHAT_TEST_BOX);
    expect(refer.masks).toHaveLength(refer.answer.split(GEOCHAT_TEST_BOX).length - 1);
    const gj = JSON.parse(buildGeojson(snap, [obj])) as { features: { properties: Record<string, unknown>; geometry: { coordinates: number[][][][] } }[] };
    expect(gj.features[0]!.geometry.coordinates[0]![0]!.length).toBeGreaterThanOrEqual(5);
  });

  it('mixed pack (GeoChat stages + SAM stages): each box is refined by SAM with the box as its prompt; both licences shown', async () => {
    const dir = makeGeochatTestPack(path.join(fx.tmp, 'geochat-sam'), { sam: true });
    const { answer, masks, status } = await askWith(dir);
    expect(status.pack?.licence).toMatch(/GeoChat-style.*\(vision, prompt, embed, decoder\): CC0-1.0; SAM-style.*\(grounding, pixel\): CC0-1.0/);
    expect(answer).toContain(GEOCHAT_TEST_BOX);
    expect(masks.length).toBeGreaterThan(0);

    // the same pixel decoder run by hand on the global view with the box's bounds as the prompt gives the stored mask
    const info = (await fx.sessions.imageOf(fx.sessionId, fx.imageId)).info;
    const rect = fx.host.planViews(info.width, info.height, [])[0]!;
    const corners = geochatBoxCorners(GEOCHAT_TEST_BOX_GRID, { rect });
    const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
    const S = fx.host.viewSize;
    const view = { rect, rgb: await fx.imagery.readRgb(info.id, rect, S, S) };
    const sam = await fx.host.instantMask(view, { kind: 'box', x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) });
    const expected = measureMask(sam, info)!;
    const m: Mask = masks[0]!;
    expect(m.areaPx).toBeCloseTo(expected.areaPx, 6);
    expect(m.polygons).toEqual(expected.polygons);
    // a mask, not the box: its outline follows the raster, not the four corners
    expect(m.polygons[0]![0]!.length).not.toBe(5);
  });

  it('mixed pack with grounding.preprocess "sam": the box runs on SAM\'s own input of the global rect (the ask\'s grounding view), not on the vision view', async () => {
    const dir = makeGeochatTestPack(path.join(fx.tmp, 'geochat-sam-pre'), { sam: true, samPreprocess: true });
    const { answer, masks } = await askWith(dir);
    expect(answer).toContain(GEOCHAT_TEST_BOX);
    expect(masks.length).toBeGreaterThan(0);
    const info = (await fx.sessions.imageOf(fx.sessionId, fx.imageId)).info;
    const rect = fx.host.planViews(info.width, info.height, [])[0]!;
    const corners = geochatBoxCorners(GEOCHAT_TEST_BOX_GRID, { rect });
    const G = fx.host.groundingSize;
    const read = (r: Rect, w: number, h: number) => fx.imagery.readRgb(info.id, r, w, h);
    const gv = await groundingViewOf(read, info.width, info.height, rect, G, 'sam');
    const clampTo = (q: Rect) => {
      const xs = corners.map((c) => Math.min(q[2], Math.max(q[0], c[0]))), ys = corners.map((c) => Math.min(q[3], Math.max(q[1], c[1])));
      return { kind: 'box' as const, x0: Math.min(...xs), y0: Math.min(...ys), x1: Math.max(...xs), y1: Math.max(...ys) };
    };
    const onSam = measureMask(await fx.host.instantMask(gv, clampTo(gv.rect)), info)!;
    const m: Mask = masks[0]!;
    expect(m.areaPx).toBeCloseTo(onSam.areaPx, 6);
    expect(m.polygons).toEqual(onSam.polygons);
    // the old path — SAM on the vision view — gives another mask here
    const S = fx.host.viewSize;
    const onView = measureMask(await fx.host.instantMask({ rect, rgb: await fx.imagery.readRgb(info.id, rect, S, S) }, clampTo(rect)), info);
    expect(onView?.areaPx).not.toBeCloseTo(onSam.areaPx, 6);
  });
});
