import { describe, expect, it } from 'vitest';
import { classicalSegment, classicalWindow, type RgbRaster } from './classicalSegment.js';
import { iou } from './testMasks.js';
import { seededRandom as rng } from '../util/seededRandom.js';

/** an object (`inside`) of one colour on a background of another, both with Gaussian-ish noise of ±`noise` */
function scene(w: number, h: number, inside: (x: number, y: number) => boolean, fg: number[], bg: number[], noise: number, seed = 1): { img: RgbRaster; truth: Uint8Array } {
  const r = rng(seed);
  const data = new Uint8Array(w * h * 3);
  const truth = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const on = inside(x + 0.5, y + 0.5);
      truth[i] = on ? 1 : 0;
      const base = on ? fg : bg;
      for (let c = 0; c < 3; c++) {
        const n = (r() + r() + r() - 1.5) * 2 * noise; // sum of uniforms ≈ Gaussian
        data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(base[c]! + n)));
      }
    }
  return { img: { width: w, height: h, data }, truth };
}

describe('classical segmentation (no model)', () => {
  const W = 160;
  const rect = (x: number, y: number) => x >= 50 && x < 110 && y >= 60 && y < 100;
  const disk = (x: number, y: number) => Math.hypot(x - 80, y - 80) < 30;

  it('box prompt: a bright rectangle on noise', () => {
    const { img, truth } = scene(W, W, rect, [200, 190, 180], [70, 80, 60], 25);
    const m = classicalSegment(img, { kind: 'box', x0: 46, y0: 56, x1: 114, y1: 104 });
    expect(iou(m, truth)).toBeGreaterThanOrEqual(0.9);
  });

  it('box prompt: a dark disk on a textured background, box touching the disk', () => {
    const { img, truth } = scene(W, W, disk, [40, 50, 60], [150, 140, 120], 30, 7);
    const m = classicalSegment(img, { kind: 'box', x0: 50, y0: 50, x1: 110, y1: 110 });
    // a tight box around a disk: the corners (21 % of the box) are background
    expect(iou(m, truth)).toBeGreaterThanOrEqual(0.9);
  });

  it('box prompt: a loose box (the object fills a third of it, off its centre)', () => {
    const small = (x: number, y: number) => Math.hypot(x - 70, y - 72) < 18;
    const { img, truth } = scene(W, W, small, [210, 200, 90], [60, 90, 70], 20, 21);
    const m = classicalSegment(img, { kind: 'box', x0: 45, y0: 50, x1: 105, y1: 105 });
    expect(iou(m, truth)).toBeGreaterThanOrEqual(0.85);
  });

  it('box prompt on one band (grey as three equal channels)', () => {
    const { img, truth } = scene(W, W, disk, [180, 180, 180], [90, 90, 90], 20, 3);
    for (let i = 0; i < img.data.length; i += 3) img.data[i + 1] = img.data[i + 2] = img.data[i]!;
    const m = classicalSegment(img, { kind: 'box', x0: 45, y0: 45, x1: 115, y1: 115 });
    expect(iou(m, truth)).toBeGreaterThanOrEqual(0.9);
  });

  it('point prompt: a bright rectangle and a disk on noise, grown from an inside point', () => {
    const a = scene(W, W, rect, [200, 190, 180], [70, 80, 60], 25, 11);
    expect(iou(classicalSegment(a.img, { kind: 'point', x: 70, y: 75 }), a.truth)).toBeGreaterThanOrEqual(0.9);
    const b = scene(W, W, disk, [40, 50, 60], [150, 140, 120], 30, 12);
    expect(iou(classicalSegment(b.img, { kind: 'point', x: 85, y: 78 }), b.truth)).toBeGreaterThanOrEqual(0.9);
  });

  it('point prompt: the size cap — a point on a plain background gives no mask covering the window', () => {
    const { img } = scene(W, W, () => false, [0, 0, 0], [100, 110, 90], 15, 5);
    const m = classicalSegment(img, { kind: 'point', x: 80, y: 80 });
    let area = 0;
    for (const v of m) area += v;
    expect(area).toBeLessThanOrEqual(W * W * 0.35);
  });

  it('degenerate inputs give a mask, never an exception: a one-pixel box, a flat image, prompts on the border', () => {
    const { img } = scene(40, 30, () => false, [0, 0, 0], [120, 120, 120], 0);
    const one = classicalSegment(img, { kind: 'box', x0: 10, y0: 10, x1: 10.4, y1: 10.4 });
    expect(one.length).toBe(40 * 30);
    expect(one.reduce((a, v) => a + v, 0)).toBeLessThanOrEqual(1);
    expect(classicalSegment(img, { kind: 'box', x0: 0, y0: 0, x1: 40, y1: 30 }).length).toBe(40 * 30);
    const edge = classicalSegment(img, { kind: 'point', x: 40, y: 0 });
    expect(edge.reduce((a, v) => a + v, 0)).toBeLessThanOrEqual(40 * 30 * 0.35);
  });

  it('the working window: square around the box with a margin, inside the image, at most 256 px', () => {
    expect(classicalWindow(1000, 800, { kind: 'box', x0: 100, y0: 100, x1: 140, y1: 120 })).toEqual({ rect: [86, 76, 154, 144], size: 68 });
    const big = classicalWindow(5000, 5000, { kind: 'box', x0: 0, y0: 0, x1: 2000, y1: 1000 });
    expect(big.rect[0]).toBe(0);
    expect(big.size).toBe(256);
    expect(classicalWindow(100, 60, { kind: 'point', x: 95, y: 5 })).toEqual({ rect: [0, 0, 100, 60], size: 100 });
  });

  it('answers within 200 ms of CPU on a 256 px window (after one warm-up run)', () => {
    const { img } = scene(256, 256, (x, y) => Math.hypot(x - 128, y - 128) < 60, [200, 190, 180], [70, 80, 60], 25, 9);
    const box = { kind: 'box' as const, x0: 60, y0: 60, x1: 196, y1: 196 };
    const point = { kind: 'point' as const, x: 128, y: 128 };
    classicalSegment(img, box);
    classicalSegment(img, point);
    // CPU time, not wall time: the test machines are shared
    const c0 = process.cpuUsage();
    classicalSegment(img, box);
    const cBox = process.cpuUsage(c0);
    const c1 = process.cpuUsage();
    classicalSegment(img, point);
    const cPoint = process.cpuUsage(c1);
    expect((cBox.user + cBox.system) / 1000).toBeLessThan(200);
    expect((cPoint.user + cPoint.system) / 1000).toBeLessThan(200);
  });
});
