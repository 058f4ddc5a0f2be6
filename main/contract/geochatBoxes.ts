/**
 * GeoChat's answer boxes (PACK_CONTRACT.md "Answer boxes"): `{<x0><y0><x1><y1>|<θ>}` on a 0–100 grid of the view the
 * model saw, θ in degrees about the box centre (absent = 0), several boxes of one object as `}{`, the object's name in
 * the nearest preceding `<p> … </p>`. Pure: the chat pipeline turns boxes into objects, the clean-text function and
 * the renderer hide the markup.
 *
 * Rotation follows GeoChat's evaluation-side helper `bbox_and_angle_to_polygon` (geochat/serve/cli.py, the block that
 * scales a predicted box to the 504-px evaluation image; the same helper sits in geochat_demo.py): each corner is the
 * centre plus R(θ)·(±w/2, ±h/2) with R = [[cos θ, −sin θ], [sin θ, cos θ]] in image axes (x right, y down), so a
 * positive θ turns the box clockwise as seen on screen. (The demo draws with `cv2.getRotationMatrix2D`, which turns
 * the other way; Vantage follows the evaluation helper.)
 */

/** One box as GeoChat wrote it, in grid units (0–100), and where it sits in the text. */
export interface GeochatBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** degrees; 0 when the box was written with four numbers */
  theta: number;
  /** the phrase of the nearest preceding `<p> … </p>` (trimmed), or null */
  phrase: string | null;
  /** [start, end) of the box's markup in the text */
  start: number;
  end: number;
}

const NUM = String.raw`\s*<\s*(-?\d+(?:\.\d+)?)\s*>\s*`;
/** one box: four numbers, an optional `|<θ>` */
export const GEOCHAT_BOX = new RegExp(String.raw`\{${NUM}${NUM}${NUM}${NUM}(?:\|${NUM})?\}`, 'g');
/** a run of boxes (`}{`, spaces allowed), for hiding the markup */
export const GEOCHAT_BOX_RUN = new RegExp(String.raw`(?:\{${NUM}${NUM}${NUM}${NUM}(?:\|${NUM})?\}\s*)+`, 'g');
/** a box still arriving at the end of streamed text: `{`, `{<12><`, `{<1><2><3><4>|<-` … */
export const GEOCHAT_BOX_PARTIAL_TAIL = /\{[\s<>\d.|-]*$/;
const PHRASE = /<p>([\s\S]*?)<\/p>/g;

/**
 * Every complete box in `text`, in order, each with the phrase of the nearest `<p> … </p>` closed before it. Boxes
 * with and without θ are both kept (GeoChat's demo drops four-number boxes from its grounded answers; Vantage does not).
 */
export function parseGeochatBoxes(text: string): GeochatBox[] {
  const phrases = [...text.matchAll(PHRASE)].map((m) => ({ end: m.index + m[0].length, text: m[1]!.replace(/\s+/g, ' ').trim() }));
  const out: GeochatBox[] = [];
  for (const m of text.matchAll(GEOCHAT_BOX)) {
    const [x0, y0, x1, y1] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
    let phrase: string | null = null;
    for (const p of phrases) if (p.end <= m.index) phrase = p.text || null;
    out.push({ x0, y0, x1, y1, theta: m[5] === undefined ? 0 : Number(m[5]), phrase, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** The text with every box run removed (the phrase markup and everything else left as it was). */
export function stripGeochatBoxes(text: string): string {
  return text.replace(GEOCHAT_BOX_RUN, ' ');
}

export type Point = [number, number];

/**
 * How the 0–100 grid lies on the image: `rect` = the view the model saw ([x0, y0, x1, y1] image px); `padded` =
 * GeoChat's own preprocessing (`expand2square`: the view centred on a square of side max(w, h), the grid over the
 * square); otherwise the grid covers the view itself, x by its width and y by its height (as Vantage writes user boxes).
 */
export interface GridPlacement {
  rect: [number, number, number, number];
  padded?: boolean;
}

/** Grid units → image px. */
export function gridToImage(x: number, y: number, g: GridPlacement): Point {
  const [rx0, ry0, rx1, ry1] = g.rect;
  const w = rx1 - rx0, h = ry1 - ry0;
  if (!g.padded) return [rx0 + (x / 100) * w, ry0 + (y / 100) * h];
  const L = Math.max(w, h);
  // expand2square pastes the image at ((L − w) // 2, (L − h) // 2) of the square
  return [rx0 + (x / 100) * L - Math.floor((L - w) / 2), ry0 + (y / 100) * L - Math.floor((L - h) / 2)];
}

/**
 * The box's four corners in image px: the axis-aligned box mapped from the grid, then turned by θ about its centre
 * (`bbox_and_angle_to_polygon`'s order: (−w/2, −h/2), (+w/2, −h/2), (+w/2, +h/2), (−w/2, +h/2) before turning).
 */
export function geochatBoxCorners(b: Pick<GeochatBox, 'x0' | 'y0' | 'x1' | 'y1' | 'theta'>, g: GridPlacement): [Point, Point, Point, Point] {
  const [ax, ay] = gridToImage(b.x0, b.y0, g);
  const [bx, by] = gridToImage(b.x1, b.y1, g);
  const cx = (ax + bx) / 2, cy = (ay + by) / 2;
  const hw = Math.abs(bx - ax) / 2, hh = Math.abs(by - ay) / 2;
  const t = (b.theta * Math.PI) / 180;
  const c = Math.cos(t), s = Math.sin(t);
  const at = (dx: number, dy: number): Point => [c * dx - s * dy + cx, s * dx + c * dy + cy];
  return [at(-hw, -hh), at(hw, -hh), at(hw, hh), at(-hw, hh)];
}
