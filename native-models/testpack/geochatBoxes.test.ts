import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { geochatBoxCorners, gridToImage, parseGeochatBoxes, stripGeochatBoxes } from '../../main/contract/geochatBoxes.js';
import { cleanModelText } from '../../main/contract/modelText.js';

/**
 * GeoChat answer boxes against GeoChat's own repository (github.com/mbzuai-oryx/GeoChat at 4850920e…):
 * - strings: geochat_demo.py's example `[identify] what is this {<8><26><22><37>}` (a four-number box), and answers in
 *   the grammar its demo parses (`extract_substrings`: `<p>(.*?)\}(?!<)`, several boxes joined by `}{`, `|<θ>` read by
 *   `re.findall(r'-?\d+')`, the 5th integer the angle) and the commented parser in geochat/serve/cli.py;
 * - expected corners: GeoChat's evaluation-side helper `bbox_and_angle_to_polygon` (geochat/serve/cli.py) run once by
 *   geochat_boxes_reference.py (beside this file), numbers in geochat_boxes_reference.json.
 */
interface RefCase {
  box: [number, number, number, number, number];
  corners_grid: number[];
  corners_504: number[];
}
const ref = JSON.parse(readFileSync(new URL('./geochat_boxes_reference.json', import.meta.url), 'utf8')) as {
  cases: RefCase[];
  expand2square: { size: [number, number]; square: [number, number]; image_at: [number, number, number, number] }[];
};
const flat = (c: [number, number][]) => c.flat();

describe('parseGeochatBoxes', () => {
  it("reads the demo's four-number example box (which the demo's own grounded parser drops) with θ = 0", () => {
    const b = parseGeochatBoxes('[identify] what is this {<8><26><22><37>}');
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ x0: 8, y0: 26, x1: 22, y1: 37, theta: 0, phrase: null });
  });

  it('reads every box of a grounded answer: θ, negative θ, several boxes as }{, the phrase of the preceding <p>…</p>', () => {
    const text = 'The image shows <p>2 airplanes</p> {<34><9><44><19>|<-45>}{<55><60><70><78>|<90>} parked near <p>a hangar</p> {<10><20><40><60>|<30>}{<8><26><22><37>}.';
    const b = parseGeochatBoxes(text);
    expect(b.map((x) => [x.x0, x.y0, x.x1, x.y1, x.theta, x.phrase])).toEqual([
      [34, 9, 44, 19, -45, '2 airplanes'],
      [55, 60, 70, 78, 90, '2 airplanes'],
      [10, 20, 40, 60, 30, 'a hangar'],
      [8, 26, 22, 37, 0, 'a hangar'],
    ]);
    for (const x of b) expect(text.slice(x.start, x.end)).toMatch(/^\{<.*>\}$/);
  });

  it('reads a [refer] answer (box only), spaces a tokenizer may leave, and ignores an unfinished box', () => {
    expect(parseGeochatBoxes('{<40><89><56><100>|<57>}')[0]).toMatchObject({ x0: 40, y0: 89, x1: 56, y1: 100, theta: 57, phrase: null });
    expect(parseGeochatBoxes('<p> red building </p> { <10> <20> <40> <60> | <30> } .')[0]).toMatchObject({ x0: 10, theta: 30, phrase: 'red building' });
    expect(parseGeochatBoxes('<p>car</p> {<1><2><3><4>}{<5><6><7>')).toHaveLength(1);
    expect(parseGeochatBoxes('3 < 4 and {a}')).toEqual([]);
  });

  it('the markup is hidden from the text the analyst reads, the phrase stays', () => {
    expect(stripGeochatBoxes('a {<1><2><3><4>}{<5><6><7><8>|<9>} b')).toBe('a  b');
    expect(cleanModelText('The image shows <p>2 airplanes</p> {<34><9><44><19>|<-45>}{<55><60><70><78>|<90>} parked.')).toBe('The image shows 2 airplanes parked.');
    expect(cleanModelText('[identify] what is this {<8><26><22><37>}')).toBe('[identify] what is this');
    // a box still streaming in is not shown half-written
    expect(cleanModelText('<p>car</p> {<12><3')).toBe('car');
  });
});

describe('geochatBoxCorners (the evaluation helper bbox_and_angle_to_polygon)', () => {
  it.each(ref.cases.map((c) => [c.box.join(','), c] as const))('box %s: grid and 504-px evaluation image', (_n, c) => {
    const [x0, y0, x1, y1, theta] = c.box;
    // on a 100-px square view the grid is image px; on the 504-px evaluation image ×5.04
    const grid = flat(geochatBoxCorners({ x0, y0, x1, y1, theta }, { rect: [0, 0, 100, 100] }));
    const px = flat(geochatBoxCorners({ x0, y0, x1, y1, theta }, { rect: [0, 0, 504, 504] }));
    grid.forEach((v, i) => expect(v).toBeCloseTo(c.corners_grid[i]!, 9));
    px.forEach((v, i) => expect(v).toBeCloseTo(c.corners_504[i]!, 9));
  });

  it("negative check: the demo's drawing helper's sense (cv2.getRotationMatrix2D, i.e. θ negated) misses the evaluation corners", () => {
    for (const c of ref.cases.filter((k) => k.box[4] !== 0)) {
      const [x0, y0, x1, y1, theta] = c.box;
      const other = flat(geochatBoxCorners({ x0, y0, x1, y1, theta: -theta }, { rect: [0, 0, 100, 100] }));
      expect(Math.max(...other.map((v, i) => Math.abs(v - c.corners_grid[i]!)))).toBeGreaterThan(1);
    }
  });

  it('a positive θ turns the box clockwise on screen (y down): the top-left corner moves right', () => {
    const c0 = geochatBoxCorners({ x0: 10, y0: 20, x1: 40, y1: 60, theta: 0 }, { rect: [0, 0, 100, 100] });
    const c30 = geochatBoxCorners({ x0: 10, y0: 20, x1: 40, y1: 60, theta: 30 }, { rect: [0, 0, 100, 100] });
    expect(c30[0][0]).toBeGreaterThan(c0[0][0]);
    expect(c30[0][1]).toBeLessThan(c0[0][1]);
  });

  it("the padded grid lies on the image as GeoChat's expand2square pads it", () => {
    for (const e of ref.expand2square) {
      const [w, h] = e.size;
      // the image's own corners, in grid units of the padded square, land on the image's corners
      const [ix0, iy0, ix1, iy1] = e.image_at;
      const L = e.square[0];
      const tl = gridToImage((100 * ix0) / L, (100 * iy0) / L, { rect: [0, 0, w, h], padded: true });
      const br = gridToImage((100 * ix1) / L, (100 * iy1) / L, { rect: [0, 0, w, h], padded: true });
      expect(tl[0]).toBeCloseTo(0, 9);
      expect(tl[1]).toBeCloseTo(0, 9);
      expect(br[0]).toBeCloseTo(w, 9);
      expect(br[1]).toBeCloseTo(h, 9);
    }
    // unpadded: x by the view's width, y by its height (as Vantage writes user boxes)
    expect(gridToImage(25, 50, { rect: [100, 0, 300, 100] })).toEqual([150, 50]);
  });
});
