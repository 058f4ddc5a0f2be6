import type { PixelPolygon } from '../contract/geometry.js';

/** A binary raster: 1 = inside. Row-major, width × height. */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Maps mask cell-grid vertices into image pixel coordinates: x = x0 + i·sx, y = y0 + j·sy. */
export interface GridPlacement {
  x0: number;
  y0: number;
  sx: number;
  sy: number;
}

type Ring = [number, number][];

/**
 * Traces the mask's outline along cell edges (no interpolation, unlike marching squares), so the polygons
 * rasterise back to exactly the mask. Foreground is 4-connected: cells touching only at a corner are separate
 * parts. Returns one polygon per part: outer ring first (clockwise on screen, y down), then its holes; rings closed.
 */
export function vectorizeMask(mask: BinaryMask, placement: GridPlacement = { x0: 0, y0: 0, sx: 1, sy: 1 }): PixelPolygon[] {
  const { width: w, height: h, data } = mask;
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < w && y < h ? data[y * w + x]! : 0);
  const vw = w + 1;
  // outgoing boundary edges per vertex; each edge is stored as its direction index 0:+x 1:+y 2:-x 3:-y
  const out = new Map<number, number[]>();
  const add = (vx: number, vy: number, dir: number) => {
    const k = vy * vw + vx;
    const list = out.get(k);
    if (list) list.push(dir);
    else out.set(k, [dir]);
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!data[y * w + x]) continue;
      if (!at(x, y - 1)) add(x, y, 0);
      if (!at(x + 1, y)) add(x + 1, y, 1);
      if (!at(x, y + 1)) add(x + 1, y + 1, 2);
      if (!at(x - 1, y)) add(x, y + 1, 3);
    }
  }
  const DX = [1, 0, -1, 0];
  const DY = [0, 1, 0, -1];
  const rings: Ring[] = [];
  for (const [startKey, dirs] of out) {
    while (dirs.length > 0) {
      let vx = startKey % vw;
      let vy = (startKey - vx) / vw;
      let dir = dirs.pop()!;
      const ring: Ring = [[vx, vy]];
      for (;;) {
        vx += DX[dir]!;
        vy += DY[dir]!;
        const k = vy * vw + vx;
        const options = out.get(k);
        if (!options || options.length === 0) break; // back at the start, all edges used
        // prefer a right turn (towards the cell the edge came from), then straight, then left: 4-connectivity
        const pick = [(dir + 1) % 4, dir, (dir + 3) % 4].find((d) => options.includes(d));
        if (pick === undefined) break;
        options.splice(options.indexOf(pick), 1);
        if (pick !== dir) ring.push([vx, vy]);
        dir = pick;
      }
      if (ring.length >= 3) {
        // the start vertex may lie in the middle of a straight run
        const first = ring[0]!;
        const second = ring[1]!;
        const last = ring[ring.length - 1]!;
        if ((last[0] === first[0] && first[0] === second[0]) || (last[1] === first[1] && first[1] === second[1])) ring.shift();
        rings.push(ring);
      }
    }
  }
  const outers: { ring: Ring; area: number; holes: Ring[] }[] = [];
  const holes: Ring[] = [];
  for (const r of rings) {
    const a = signedArea(r);
    if (a > 0) outers.push({ ring: r, area: a, holes: [] });
    else holes.push(r);
  }
  for (const hole of holes) {
    const probe = cellCentreLeftOf(hole);
    let best: (typeof outers)[number] | undefined;
    for (const o of outers) {
      if ((best === undefined || o.area < best.area) && pointInRing(probe, o.ring)) best = o;
    }
    best?.holes.push(hole);
  }
  const place = ([i, j]: [number, number]): [number, number] => [placement.x0 + i * placement.sx, placement.y0 + j * placement.sy];
  const close = (r: Ring) => [...r.map(place), place(r[0]!)];
  return outers.map((o) => [close(o.ring), ...o.holes.map(close)]);
}

function signedArea(r: Ring): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) {
    const [x1, y1] = r[i]!;
    const [x2, y2] = r[(i + 1) % r.length]!;
    s += x1 * y2 - x2 * y1;
  }
  return s / 2;
}

/** Centre of the background cell on the left of the ring's first edge: strictly inside the hole. */
function cellCentreLeftOf(r: Ring): [number, number] {
  const [ax, ay] = r[0]!;
  const [bx, by] = r[1]!;
  const dx = Math.sign(bx - ax);
  const dy = Math.sign(by - ay);
  return [ax + dx * 0.5 + dy * 0.5, ay + dy * 0.5 - dx * 0.5];
}

export function pointInRing([px, py]: [number, number], ring: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Even-odd rasterisation at cell centres: the inverse of vectorizeMask (used by tests and exports' checks). */
export function rasterizePolygons(polys: PixelPolygon[], width: number, height: number, placement: GridPlacement = { x0: 0, y0: 0, sx: 1, sy: 1 }): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p: [number, number] = [placement.x0 + (x + 0.5) * placement.sx, placement.y0 + (y + 0.5) * placement.sy];
      let inside = false;
      for (const poly of polys) for (const ring of poly) if (pointInRing(p, ring as [number, number][])) inside = !inside;
      out[y * width + x] = inside ? 1 : 0;
    }
  }
  return out;
}

export function maskArea(mask: BinaryMask): number {
  let n = 0;
  for (const v of mask.data) n += v ? 1 : 0;
  return n;
}

/** Bounding box of the foreground in cell units [x0, y0, x1, y1) or null when empty. */
export function maskBounds(mask: BinaryMask): [number, number, number, number] | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (!mask.data[y * mask.width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

/** Row-major run lengths, starting with a run of 0s (possibly empty). */
export function encodeRle(mask: BinaryMask): number[] {
  const runs: number[] = [];
  let current = 0;
  let n = 0;
  for (const v of mask.data) {
    const b = v ? 1 : 0;
    if (b === current) n++;
    else {
      runs.push(n);
      current = b;
      n = 1;
    }
  }
  runs.push(n);
  return runs;
}

export function decodeRle(runs: number[], width: number, height: number): BinaryMask {
  const data = new Uint8Array(width * height);
  let pos = 0;
  runs.forEach((len, i) => {
    if (i % 2 === 1) data.fill(1, pos, pos + len);
    pos += len;
  });
  if (pos !== width * height) throw new Error(`RLE covers ${pos} cells, expected ${width * height}`);
  return { width, height, data };
}
