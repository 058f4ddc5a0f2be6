import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithData } from '../testing/data.js';
import { modelServices } from '../testing/modelFixture.js';
import { InstantMaskService } from './instantMasks.js';

/** Instant masks through the real service: real GeoTIFF, SQLite, worker, ORT (moved with the code from chatService.int.test.ts). */

describeWithData('chat service: task modes, instant masks, bad input', ['imagery/optical_utm/RGB.byte.tif'], ([file]) => {
  let fx: Awaited<ReturnType<typeof modelServices>>;
  let masks: InstantMaskService;
  let sessionId: string;
  let imageId: string;

  beforeAll(async () => {
    fx = await modelServices(file!, 'masks');
    ({ sessionId, imageId } = fx);
    masks = new InstantMaskService(fx.sessions, fx.imagery, fx.models, fx.host);
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('instant mask: features are cached per image tile — same tile only runs the pixel decoder, another tile computes its own', async () => {
    // 791×718 image, test pack S = 64: tiles of 4·64 = 256 px; the last column/row is shifted back to end on the edge
    const first = await masks.instantMask({ sessionId, imageId, region: { kind: 'point', x: 400, y: 350 } }); // tile [256,256,512,512]
    expect(first.cached).toBe(false);
    expect(first.method).toBe('model'); // a pack with grounding + pixel stages is used, never the classical path
    const second = await masks.instantMask({ sessionId, imageId, region: { kind: 'box', x0: 300, y0: 300, x1: 500, y1: 450 } });
    expect(second.cached).toBe(true);
    const other = await masks.instantMask({ sessionId, imageId, region: { kind: 'point', x: 700, y: 100 } }); // tile [512,0,768,256]
    expect(other.cached).toBe(false);
    const otherAgain = await masks.instantMask({ sessionId, imageId, region: { kind: 'point', x: 600, y: 30 } });
    expect(otherAgain.cached).toBe(true);
    const edge = await masks.instantMask({ sessionId, imageId, region: { kind: 'point', x: 780, y: 700 } }); // tile [535,462,791,718]
    expect(edge.cached).toBe(false);
    const back = await masks.instantMask({ sessionId, imageId, region: { kind: 'point', x: 260, y: 500 } });
    expect(back.cached).toBe(true);
    // the masks lie in their tile
    for (const [m, [x0, y0, x1, y1]] of [[other, [512, 0, 768, 256]], [otherAgain, [512, 0, 768, 256]], [edge, [535, 462, 791, 718]]] as const) {
      if (!m.bbox) continue;
      expect(m.bbox[0]).toBeGreaterThanOrEqual(x0);
      expect(m.bbox[1]).toBeGreaterThanOrEqual(y0);
      expect(m.bbox[2]).toBeLessThanOrEqual(x1);
      expect(m.bbox[3]).toBeLessThanOrEqual(y1);
    }
    for (const m of [first, second, other, edge]) {
      expect(Number.isFinite(m.score)).toBe(true);
      if (m.bbox) {
        expect(m.bbox[0]).toBeGreaterThanOrEqual(0);
        expect(m.bbox[2]).toBeLessThanOrEqual(791);
        expect(m.polygons.length).toBeGreaterThan(0);
        expect(m.areaPx).toBeGreaterThan(0);
      }
    }
  });

  it('instant mask: the tile follows the zoom — view size when zoomed in, larger when zoomed out, cached per zoom', async () => {
    const at = (x: number, y: number, viewSpanPx?: number) =>
      masks.instantMask({ sessionId, imageId, region: { kind: 'point', x, y }, ...(viewSpanPx === undefined ? {} : { viewSpanPx }) });
    // zoomed far in (40 image px across the map): tile = one view S = 64 px, mask cells of 1 image px (M = 64)
    const fine = await at(100, 100, 40);
    expect(fine.tile).toEqual([64, 64, 128, 128]);
    expect(fine.cached).toBe(false);
    if (fine.bbox) {
      expect(fine.bbox[0]).toBeGreaterThanOrEqual(64);
      expect(fine.bbox[2]).toBeLessThanOrEqual(128);
    }
    // the same zoom, another click in that tile: cached; a slightly different span snaps to the same tile size
    const fineAgain = await at(120, 70, 50);
    expect(fineAgain.tile).toEqual([64, 64, 128, 128]);
    expect(fineAgain.cached).toBe(true);
    // zoomed out (700 px across → 8·S = 512): a larger tile, its own features; the same zoom elsewhere in it hits
    const coarse = await at(100, 100, 700);
    expect(coarse.tile).toEqual([0, 0, 512, 512]);
    expect(coarse.cached).toBe(false);
    const coarseAgain = await at(450, 300, 600);
    expect(coarseAgain.tile).toEqual([0, 0, 512, 512]);
    expect(coarseAgain.cached).toBe(true);
    // another zoom at the same point does not share a tile
    const mid = await at(100, 100, 300);
    expect(mid.tile).toEqual([0, 0, 256, 256]);
    expect(mid.cached).toBe(false);
    // zoomed out past the image: clamped to the whole image (791×718); never below one view when zoomed in further
    const whole = await at(100, 100, 50_000);
    expect(whole.tile).toEqual([0, 0, 791, 718]);
    expect((await at(700, 650, 1e6)).cached).toBe(true);
    expect((await at(100, 100, 1)).tile).toEqual([64, 64, 128, 128]);
    // no span (CLI, older callers): today's 4·S tiles
    const plain = await at(400, 350);
    expect(plain.tile).toEqual([256, 256, 512, 512]);
    const plainEdge = await at(780, 700);
    expect(plainEdge.tile).toEqual([535, 462, 791, 718]);
  });
});
