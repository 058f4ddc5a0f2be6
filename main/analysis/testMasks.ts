import type { BinaryMask } from './maskVectorizer.js';

/** Test shapes the vectoriser must get right: an annulus (a hole) and a C (a deep concavity), on an n×n grid. */
export function ringMask(n: number, rOut: number, rIn: number): BinaryMask {
  return shape(n, (dx, dy) => {
    const r = Math.hypot(dx, dy);
    return r <= rOut && r >= rIn;
  });
}

export function cMask(n: number, rOut: number, rIn: number): BinaryMask {
  return shape(n, (dx, dy) => {
    const r = Math.hypot(dx, dy);
    // the gap opens to the right: |angle| < 40°
    return r <= rOut && r >= rIn && !(dx > 0 && Math.abs(Math.atan2(dy, dx)) < (40 * Math.PI) / 180);
  });
}

function shape(n: number, inside: (dx: number, dy: number) => boolean): BinaryMask {
  const data = new Uint8Array(n * n);
  const c = n / 2;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) data[y * n + x] = inside(x + 0.5 - c, y + 0.5 - c) ? 1 : 0;
  return { width: n, height: n, data };
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0, uni = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && b[i]) inter++;
    if (a[i] || b[i]) uni++;
  }
  return uni === 0 ? 1 : inter / uni;
}
