import { describe, expect, it } from 'vitest';
import { chooseGrid, instantTile, planViews, regionBounds, type Rect } from './viewPlanner.js';

const spec = { size: 448, maxViews: 5, maxImagePixels: 100_000_000 };

function area(r: Rect): number {
  return (r[2] - r[0]) * (r[3] - r[1]);
}

describe('chooseGrid', () => {
  it('matches the aspect ratio of wide, tall and square images', () => {
    expect(chooseGrid(4000, 1000, 448, 4)).toEqual({ cols: 4, rows: 1 });
    expect(chooseGrid(1000, 4000, 448, 4)).toEqual({ cols: 1, rows: 4 });
    expect(chooseGrid(2000, 1000, 448, 4)).toEqual({ cols: 2, rows: 1 });
    expect(chooseGrid(3000, 3000, 448, 4)).toEqual({ cols: 2, rows: 2 });
  });

  it('does not blow a small square image up into many cells', () => {
    expect(chooseGrid(300, 300, 448, 4)).toEqual({ cols: 1, rows: 1 });
    expect(chooseGrid(448 * 2, 448 * 2, 448, 4)).toEqual({ cols: 2, rows: 2 });
  });

  it('never exceeds the cell budget, and gives none when maxViews is 1', () => {
    for (let cells = 1; cells <= 8; cells++)
      for (const [w, h] of [[100, 7000], [7000, 100], [5000, 5000], [1234, 987]] as const) {
        const g = chooseGrid(w, h, 448, cells);
        expect(g.cols * g.rows).toBeLessThanOrEqual(cells);
      }
    expect(chooseGrid(1000, 1000, 448, 0)).toEqual({ cols: 0, rows: 0 });
  });
});

describe('planViews', () => {
  it('puts the whole image first, then a row-major grid that tiles it exactly', () => {
    const p = planViews(3000, 1500, spec);
    expect(p.roi).toBe(false);
    expect(p.views[0]).toEqual([0, 0, 3000, 1500]);
    expect(p.grid).toEqual({ cols: 2, rows: 1 });
    expect(p.views.slice(1)).toEqual([
      [0, 0, 1500, 1500],
      [1500, 0, 3000, 1500],
    ]);
  });

  it('tiles odd sizes without gaps or overlaps', () => {
    const p = planViews(1001, 999, spec);
    const cells = p.views.slice(1);
    expect(cells.reduce((a, r) => a + area(r), 0)).toBe(1001 * 999);
    // row-major: y grows slower than x
    for (let k = 1; k < cells.length; k++) {
      const [a, b] = [cells[k - 1]!, cells[k]!];
      expect(b[1] > a[1] || (b[1] === a[1] && b[0] > a[0])).toBe(true);
    }
  });

  it('crops a region of interest around the prompts in an image over maxImagePixels', () => {
    const big = { size: 448, maxViews: 5, maxImagePixels: 4_000_000 };
    const p = planViews(40_000, 30_000, big, [{ kind: 'box', x0: 20_000, y0: 10_000, x1: 20_400, y1: 10_300 }]);
    expect(p.roi).toBe(true);
    const g = p.views[0]!;
    expect(g[0]).toBeLessThanOrEqual(20_000);
    expect(g[1]).toBeLessThanOrEqual(10_000);
    expect(g[2]).toBeGreaterThanOrEqual(20_400);
    expect(g[3]).toBeGreaterThanOrEqual(10_300);
    expect(area(g)).toBeLessThanOrEqual(4_000_000 * 1.01);
    // every cell lies inside the ROI
    for (const c of p.views.slice(1)) expect(c[0] >= g[0] && c[1] >= g[1] && c[2] <= g[2] && c[3] <= g[3]).toBe(true);
  });

  it('keeps the ROI inside the image near its edge', () => {
    const big = { size: 448, maxViews: 5, maxImagePixels: 1_000_000 };
    const p = planViews(20_000, 20_000, big, [{ kind: 'point', x: 5, y: 19_990 }]);
    const g = p.views[0]!;
    expect(g[0]).toBe(0);
    expect(g[3]).toBe(20_000);
    expect(g[2] - g[0]).toBe(1000);
  });

  it('refuses an empty image', () => {
    expect(() => planViews(0, 10, spec)).toThrow(/positive/);
  });
});

describe('regionBounds', () => {
  it('covers each geometry, scribbles including their width', () => {
    expect(regionBounds({ kind: 'circle', cx: 10, cy: 20, r: 5 })).toEqual([5, 15, 15, 25]);
    expect(regionBounds({ kind: 'box', x0: 9, y0: 8, x1: 1, y1: 2 })).toEqual([1, 2, 9, 8]);
    expect(regionBounds({ kind: 'scribble', points: [[0, 0], [10, 0]], width: 4 })).toEqual([-2, -2, 12, 2]);
  });
});

describe('instantTile (fixed instant-mask tiles of 4·S px)', () => {
  it('puts clicks in fixed tiles; the last tile is shifted back to end on the edge', () => {
    expect(instantTile(791, 718, 64, [400, 350, 400, 350])).toEqual([256, 256, 512, 512]);
    expect(instantTile(791, 718, 64, [300, 300, 500, 450])).toEqual([256, 256, 512, 512]);
    expect(instantTile(791, 718, 64, [780, 700, 780, 700])).toEqual([535, 462, 791, 718]);
    expect(instantTile(791, 718, 64, [791, 718, 791, 718])).toEqual([535, 462, 791, 718]);
    expect(instantTile(791, 718, 64, [0, 0, 0, 0])).toEqual([0, 0, 256, 256]);
  });

  it('an image within one tile is the whole image; a box across a tile edge gets no tile', () => {
    expect(instantTile(150, 90, 64, [10, 10, 140, 80])).toEqual([0, 0, 150, 90]);
    expect(instantTile(1000, 200, 64, [240, 10, 270, 50])).toBeNull();
    expect(instantTile(1000, 200, 64, [900, 10, 990, 50])).toEqual([744, 0, 1000, 200]);
  });
});
